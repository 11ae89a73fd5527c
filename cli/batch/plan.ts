import type { ApiWorkflow, Engine, JsonValue, ValidationResult } from '../../engine/index.js';
import { resolveNodeRef } from '../overrides.js';
import { formatValidationErrors } from '../print-validation.js';
import type { Override } from './batch-file.js';
import type { JobSource } from './sweep.js';
import { jobId } from './job-id.js';
import { BatchPlanError } from './errors.js';

/** A validated job: its resolved workflow, deterministic id and what to record in the manifest. */
export interface PlannedJob {
  readonly id: string;
  /** 0-based position in the batch. */
  readonly index: number;
  readonly label: string;
  /** The overrides as given (last one wins per target), for the manifest. */
  readonly overrides: Readonly<Record<string, JsonValue>>;
  /** The base workflow with the overrides applied, constants converted to their input types. */
  readonly workflow: ApiWorkflow;
  /** The job's seed: one value, `{node: seed}` when seeds differ between nodes, or null. */
  readonly seed: JsonValue;
}

export interface BatchPlan {
  readonly jobs: PlannedJob[];
  /** Rows whose resolved workflow equals an earlier row's: they run once, under the first row. */
  readonly duplicates: string[];
}

interface Target {
  readonly nodeId: string;
  readonly input: string;
}

const SEED_INPUTS = ['seed', 'noise_seed'];

/** The constants an override sets; `seed` (no node) means every `seed` and `noise_seed` input. */
function targetsOf(wf: ApiWorkflow, engine: Engine, target: string): Target[] | string {
  const dot = target.lastIndexOf('.');
  if (dot < 0) {
    const names = target === 'seed' ? SEED_INPUTS : [target];
    const out: Target[] = [];
    for (const [nodeId, node] of Object.entries(wf)) {
      for (const n of names) if (n in node.inputs && !Array.isArray(node.inputs[n])) out.push({ nodeId, input: n });
    }
    return out.length ? out : `'${target}': no node has a constant input '${target}'`;
  }
  const ref = target.slice(0, dot);
  const input = target.slice(dot + 1);
  const ids = resolveNodeRef(wf, ref);
  if (!ids.length) return `'${target}': no node with id or title '${ref}'`;
  for (const id of ids) {
    const def = engine.registry.get(wf[id]!.class_type);
    if (def && !(input in def.inputs) && !(input in def.optional)) return `'${target}': node ${id} (${def.type}) has no input '${input}'`;
  }
  return ids.map((nodeId) => ({ nodeId, input }));
}

function seedOf(wf: ApiWorkflow): JsonValue {
  const seeds: Record<string, JsonValue> = {};
  for (const [id, node] of Object.entries(wf)) {
    for (const n of SEED_INPUTS) {
      const v = node.inputs[n];
      if (v !== undefined && !Array.isArray(v)) seeds[n === 'seed' ? id : `${id}.${n}`] = v;
    }
  }
  const values = Object.values(seeds);
  if (!values.length) return null;
  return values.every((v) => String(v) === String(values[0])) ? values[0]! : seeds;
}

/** Applies one job's overrides; returns the workflow and the (node, input) pairs set, or the problems. */
function applyJobOverrides(base: ApiWorkflow, engine: Engine, overrides: readonly Override[]): { wf: ApiWorkflow; set: Target[] } | { problems: string[] } {
  const wf: ApiWorkflow = structuredClone(base);
  const set: Target[] = [];
  const problems: string[] = [];
  for (const [target, value] of overrides) {
    const t = targetsOf(wf, engine, target);
    if (typeof t === 'string') {
      problems.push(t);
      continue;
    }
    for (const { nodeId, input } of t) {
      wf[nodeId]!.inputs[input] = value;
      set.push({ nodeId, input });
    }
  }
  return problems.length ? { problems } : { wf, set };
}

/** Writes back the validated (converted) values, so `"64"` from a CSV and `64` from JSON give one job. */
function normalise(wf: ApiWorkflow, set: readonly Target[], v: ValidationResult): void {
  for (const { nodeId, input } of set) {
    const r = v.nodes.get(nodeId)?.inputs[input];
    if (r?.kind !== 'const') continue;
    const value = r.value;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') wf[nodeId]!.inputs[input] = value;
  }
}

/**
 * Resolves and validates every job before any runs. Throws BatchPlanError listing every bad job
 * with its row, so a batch never fails halfway on a typo in row 180.
 */
export function planBatch(base: ApiWorkflow, sources: readonly JobSource[], engine: Engine): BatchPlan {
  const jobs: PlannedJob[] = [];
  const problems: string[] = [];
  const duplicates: string[] = [];
  const seen = new Map<string, string>();
  let badJobs = 0;
  sources.forEach((src, i) => {
    const label = src.label || `job ${i + 1}`;
    const applied = applyJobOverrides(base, engine, src.overrides);
    if ('problems' in applied) {
      for (const p of applied.problems) problems.push(`${label}: ${p}`);
      badJobs++;
      return;
    }
    const v = engine.validate(applied.wf);
    if (!v.ok || Object.keys(v.node_errors).length) {
      // With node errors, the top-level "Prompt outputs failed validation" line adds nothing.
      const lines = formatValidationErrors(v).filter((l, k) => k > 0 || !Object.keys(v.node_errors).length);
      for (const line of lines) problems.push(`${label}: ${line.trim()}`);
      badJobs++;
      return;
    }
    normalise(applied.wf, applied.set, v);
    const id = jobId(applied.wf);
    const first = seen.get(id);
    if (first !== undefined) {
      duplicates.push(`${label} resolves to the same workflow as ${first}; it runs once`);
      return;
    }
    seen.set(id, label);
    const overrides: Record<string, JsonValue> = {};
    for (const [k, val] of src.overrides) overrides[k] = val;
    jobs.push({ id, index: jobs.length, label, overrides, workflow: applied.wf, seed: seedOf(applied.wf) });
  });
  if (problems.length) throw new BatchPlanError(badJobs, problems);
  return { jobs, duplicates };
}
