import type { Writable } from 'node:stream';
import { WorkflowParseError, checkStructure, type ApiWorkflow } from '../../engine/index.js';
import { loadWorkflowFile } from '../load-workflow.js';
import { applyOverrides, parseSet, OverrideError } from '../overrides.js';
import { openHost, hostOptions, type HostFlags } from '../host-flags.js';
import { readBatchFile, type BatchRow } from './batch-file.js';
import { parseSweep, combine } from './sweep.js';
import { planBatch, type BatchPlan } from './plan.js';
import { removeStalePartials } from '../../host/job-files.js';
import { Manifest } from './manifest.js';
import { runBatch, type BatchSummary } from './runner.js';
import { jsonBatchReporter, plainBatchReporter, ttyBatchReporter, type BatchReporter } from './progress.js';
import { lockBatchDir } from './lock.js';
import { BatchInputError, BatchLockedError, BatchPlanError } from './errors.js';

export interface BatchFlags extends HostFlags {
  set: string[];
  json?: boolean;
  batch?: string;
  sweep: string[];
  jobs?: number;
  /** Same as --jobs (the name `serve` uses); the larger of the two wins. */
  concurrency?: number;
  /** Rows per U-Net call when concurrent jobs' steps are batched. */
  maxBatch?: number;
  /** Enqueue on this Redis (BullMQ) for `latentflow worker`s instead of running here. */
  redis?: string;
}

export const BATCH_EXIT = { ok: 0, failed: 1, invalid: 2, interrupted: 130 } as const;

export interface BatchIo {
  readonly stdout: Writable;
  readonly stderr: NodeJS.WriteStream | Writable;
}

function isTty(s: BatchIo['stderr']): s is NodeJS.WriteStream {
  return 'isTTY' in s && s.isTTY === true;
}

/** Reads the workflow, the batch file and the sweeps; every input problem becomes exit code 2. */
async function readInputs(file: string, flags: BatchFlags): Promise<{ base: ApiWorkflow; rows?: BatchRow[]; sweeps: Awaited<ReturnType<typeof parseSweep>>[] }> {
  const loaded = await loadWorkflowFile(file);
  const shape = checkStructure(loaded.prompt);
  if (!shape.ok) throw new BatchInputError(shape.issues.map((i) => `${file}: ${i.message}`));
  const base = applyOverrides(shape.workflow, flags.set.map(parseSet));
  const rows = flags.batch ? await readBatchFile(flags.batch) : undefined;
  const sweeps = await Promise.all(flags.sweep.map((s) => parseSweep(s)));
  return { base, rows, sweeps };
}

function summaryLines(s: BatchSummary, manifestFile: string): string[] {
  const lines = [`${s.total} jobs: ${s.done} done now, ${s.skipped} done before, ${s.failed.length} failed, ${s.interrupted} interrupted, ${s.pending} not started`];
  if (s.failed.length) {
    lines.push('failed jobs:');
    for (const f of s.failed) lines.push(`  ${f.job}  ${f.label}: ${f.error}`);
  }
  lines.push(`manifest: ${manifestFile}`);
  return lines;
}

/**
 * `latentflow run <workflow> --batch rows.jsonl|rows.csv --sweep target=values --jobs N --output DIR`:
 * validates every job first, then runs them on one engine; resumable through `DIR/manifest.jsonl`.
 */
export async function batchCommand(file: string, flags: BatchFlags, io: BatchIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const err = (line: string) => io.stderr.write(`${line}\n`);
  let inputs: Awaited<ReturnType<typeof readInputs>>;
  try {
    inputs = await readInputs(file, flags);
  } catch (e) {
    if (e instanceof BatchInputError || e instanceof WorkflowParseError || e instanceof OverrideError) {
      err(`invalid batch: ${e.message}`);
      return BATCH_EXIT.invalid;
    }
    throw e;
  }
  const host = await openHost({ ...hostOptions(flags), batching: { maxBatch: flags.maxBatch } });
  let release: (() => Promise<void>) | undefined;
  try {
    let plan: BatchPlan;
    try {
      plan = planBatch(inputs.base, combine(inputs.rows, inputs.sweeps), host.engine);
      release = await lockBatchDir(host.folders.output);
    } catch (e) {
      if (e instanceof BatchPlanError) {
        err(`invalid batch (nothing was run): ${e.message}`);
        return BATCH_EXIT.invalid;
      }
      if (e instanceof BatchLockedError) {
        err(e.message);
        return BATCH_EXIT.invalid;
      }
      throw e;
    }
    for (const d of plan.duplicates) err(`note: ${d}`);
    const manifest = await Manifest.open(host.folders.output);
    if (manifest.skippedLines.length) err(`note: ${manifest.file}: skipped unreadable line(s) ${manifest.skippedLines.join(', ')}`);
    const stale = await removeStalePartials(host.folders);
    if (stale.length) err(`note: removed ${stale.length} partial file(s) left by an interrupted run`);

    const classOf = (id: string) => inputs.base[id]?.class_type ?? '';
    const reporter: BatchReporter = flags.json
      ? jsonBatchReporter((l) => io.stdout.write(`${l}\n`))
      : isTty(io.stderr)
        ? ttyBatchReporter(io.stderr, classOf)
        : plainBatchReporter(err);

    const ac = new AbortController();
    const onSignal = () => {
      if (ac.signal.aborted) {
        // A second Ctrl+C: leave now. Outputs are still whole (temp + rename) and finished jobs recorded.
        reporter.stop();
        err('interrupted twice: exiting without waiting');
        process.exit(BATCH_EXIT.interrupted);
      }
      reporter.log('interrupt: stopping at the next step boundary (Ctrl+C again to quit now)');
      ac.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const remote = flags.redis
      ? await (await import('../../scaleout/batch-executor.js')).openRemoteBatch({ url: flags.redis, folders: host.folders, log: (m) => reporter.log(m) })
      : undefined;
    let summary: BatchSummary;
    try {
      summary = await runBatch({
        executor: remote,
        host,
        dirs: host.folders,
        manifest,
        jobs: plan.jobs,
        concurrency: Math.max(flags.jobs ?? 1, flags.concurrency ?? 1),
        signal: ac.signal,
        onEvent: (ev) => reporter.onEvent(ev),
      });
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      reporter.stop();
      await remote?.close();
    }
    for (const l of summaryLines(summary, manifest.file)) err(l);
    if (ac.signal.aborted) return BATCH_EXIT.interrupted;
    return summary.failed.length ? BATCH_EXIT.failed : BATCH_EXIT.ok;
  } finally {
    await release?.();
    await host.close();
  }
}
