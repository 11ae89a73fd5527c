import type { JsonValue } from '../../../engine/json.js';
import { hasWidget, type InputDef, type NodeSpec } from './spec.js';
import { inputNameOf, type Graph } from './types.js';

/** Problems by node id, then by input name ("" for the node itself). */
export type Issues = Map<string, Record<string, string>>;

export interface ValidationResult {
  readonly issues: Issues;
  /** Problems of the whole graph (no output node, ...). */
  readonly global: readonly string[];
}

function asNumber(v: JsonValue): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return undefined;
}

function compare(v: JsonValue, bound: unknown): number | undefined {
  if (typeof bound !== 'number' && typeof bound !== 'bigint') return undefined;
  if (typeof v === 'bigint' || typeof bound === 'bigint') {
    if (typeof v === 'number' && !Number.isInteger(v)) return undefined;
    const a = typeof v === 'bigint' ? v : typeof v === 'number' ? BigInt(v) : undefined;
    const b = typeof bound === 'bigint' ? bound : Number.isInteger(bound) ? BigInt(bound) : undefined;
    if (a === undefined || b === undefined) return undefined;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  const n = asNumber(v);
  return n === undefined ? undefined : Math.sign(n - bound);
}

/** The problem with one widget value, in the words of ComfyUI's error types, or undefined. */
export function checkValue(def: InputDef, v: JsonValue): string | undefined {
  if (def.widget === 'INT' || def.widget === 'FLOAT') {
    const n = asNumber(v);
    if (n === undefined || Number.isNaN(n)) return `${def.name}: not a number`;
    if (def.widget === 'INT' && typeof v === 'number' && !Number.isInteger(v)) return `${def.name}: must be an integer`;
    if ((compare(v, def.options.min) ?? 0) < 0) return `value smaller than min: ${String(v)} < ${String(def.options.min)}`;
    if ((compare(v, def.options.max) ?? 0) > 0) return `value bigger than max: ${String(v)} > ${String(def.options.max)}`;
  }
  if (def.widget === 'COMBO' && def.choices.length > 0 && !def.choices.some((c) => c === v)) {
    return `value not in list: '${String(v)}'`;
  }
  if (def.widget === 'BOOLEAN' && typeof v !== 'boolean') return `${def.name}: not a boolean`;
  return undefined;
}

/** Checks the graph before queueing: missing required inputs, out-of-range and unknown values. */
export function validateGraph(graph: Graph, specs: ReadonlyMap<string, NodeSpec>): ValidationResult {
  const linked = new Set(graph.edges.map((e) => `${e.target}\u0000${inputNameOf(e.targetHandle)}`));
  const issues: Issues = new Map();
  const global: string[] = [];
  const add = (id: string, input: string, msg: string): void => {
    const rec = issues.get(id) ?? {};
    rec[input] = msg;
    issues.set(id, rec);
  };
  let outputs = 0;
  for (const node of graph.nodes) {
    const spec = specs.get(node.data.classType);
    if (!spec) {
      add(node.id, '', `unknown node type ${node.data.classType}`);
      continue;
    }
    if (spec.outputNode) outputs++;
    for (const def of spec.inputs) {
      if (linked.has(`${node.id}\u0000${def.name}`)) continue;
      const v = node.data.values[def.name];
      if (!hasWidget(def) || v === undefined) {
        if (!def.optional) add(node.id, def.name, `required input missing: ${def.name}`);
        continue;
      }
      const problem = checkValue(def, v);
      if (problem) add(node.id, def.name, problem);
    }
  }
  if (outputs === 0) global.push('the workflow has no output node (SaveImage, PreviewImage, ...)');
  return { issues, global };
}
