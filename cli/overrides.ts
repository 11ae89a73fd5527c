import { parseJson, EngineError, type ApiWorkflow, type JsonValue } from '../engine/index.js';

/** A `--set` that names no node or input of the workflow. */
export class OverrideError extends EngineError {
  override name = 'OverrideError';
}

/** Parses an override value: JSON when it parses (numbers, booleans, big seeds), the raw text otherwise. */
export function parseOverrideValue(text: string): JsonValue {
  try {
    const v = parseJson(text);
    return typeof v === 'object' && v !== null ? text : v;
  } catch {
    return text;
  }
}

/** Finds the node ids an override target names: an id, or a node title (`_meta.title`). */
export function resolveNodeRef(wf: ApiWorkflow, ref: string): string[] {
  if (ref in wf) return [ref];
  return Object.keys(wf).filter((id) => wf[id]!._meta?.title === ref);
}

/**
 * Applies `node.input=value` overrides. `seed=...` without a node sets every `seed` and `noise_seed`
 * constant of the workflow.
 */
export function applyOverrides(wf: ApiWorkflow, sets: readonly [string, JsonValue][]): ApiWorkflow {
  const out: ApiWorkflow = structuredClone(wf);
  for (const [target, value] of sets) {
    const dot = target.lastIndexOf('.');
    if (dot < 0) {
      const names = target === 'seed' ? ['seed', 'noise_seed'] : [target];
      let hit = 0;
      for (const node of Object.values(out)) {
        for (const n of names) {
          if (n in node.inputs && !Array.isArray(node.inputs[n])) {
            node.inputs[n] = value;
            hit++;
          }
        }
      }
      if (!hit) throw new OverrideError(`--set ${target}: no node has a constant input '${target}'`);
      continue;
    }
    const ref = target.slice(0, dot);
    const input = target.slice(dot + 1);
    const ids = resolveNodeRef(out, ref);
    if (!ids.length) throw new OverrideError(`--set ${target}: no node with id or title '${ref}'`);
    for (const id of ids) out[id]!.inputs[input] = value;
  }
  return out;
}

/** Splits `a.b=c` into its target and parsed value. */
export function parseSet(spec: string): [string, JsonValue] {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new OverrideError(`--set '${spec}': expected <node>.<input>=<value>`);
  return [spec.slice(0, eq), parseOverrideValue(spec.slice(eq + 1))];
}
