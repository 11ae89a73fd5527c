import { canConnect } from '../../../engine/socket-types.js';
import type { NodeSpec } from './spec.js';
import { inputNameOf, outputSlotOf, type Graph } from './types.js';

export interface ConnectionLike {
  readonly source: string | null;
  readonly sourceHandle?: string | null;
  readonly target: string | null;
  readonly targetHandle?: string | null;
}

export type ConnectionVerdict =
  | { ok: true; sourceType: string; targetType: string; input: string; slot: number }
  | { ok: false; reason: string };

/** True when `to` can reach `from` along links, so a link from -> to would close a cycle. */
export function reaches(graph: Graph, start: string, goal: string): boolean {
  const out = new Map<string, string[]>();
  for (const e of graph.edges) {
    const list = out.get(e.source) ?? [];
    list.push(e.target);
    out.set(e.source, list);
  }
  const seen = new Set<string>([start]);
  const stack = [start];
  while (stack.length) {
    const id = stack.pop()!;
    if (id === goal) return true;
    for (const next of out.get(id) ?? []) {
      if (!seen.has(next)) {
        seen.add(next);
        stack.push(next);
      }
    }
  }
  return false;
}

/**
 * The editor's connection rule: the engine's own `canConnect` for types, plus the graph rules
 * (one link per input, no cycles). The reason is shown to the user while dragging.
 */
export function checkConnection(graph: Graph, specs: ReadonlyMap<string, NodeSpec>, c: ConnectionLike): ConnectionVerdict {
  if (!c.source || !c.target) return { ok: false, reason: 'drop the link on a socket' };
  const input = inputNameOf(c.targetHandle);
  const slot = outputSlotOf(c.sourceHandle);
  if (input === undefined || slot === undefined) return { ok: false, reason: 'links go from an output to an input' };
  const from = graph.nodes.find((n) => n.id === c.source);
  const to = graph.nodes.find((n) => n.id === c.target);
  if (!from || !to) return { ok: false, reason: 'unknown node' };
  const out = specs.get(from.data.classType)?.outputs[slot];
  const inp = specs.get(to.data.classType)?.inputs.find((i) => i.name === input);
  if (!out || !inp) return { ok: false, reason: 'unknown socket' };
  const types = canConnect(out.type, inp.type);
  if (!types.ok) return { ok: false, reason: types.reason };
  if (graph.edges.some((e) => e.target === c.target && inputNameOf(e.targetHandle) === input)) {
    return { ok: false, reason: `one link per input: '${input}' is already connected` };
  }
  if (c.source === c.target || reaches(graph, c.target, c.source)) {
    return { ok: false, reason: `cycle: ${to.data.title ?? to.data.classType} already feeds ${from.data.title ?? from.data.classType}` };
  }
  return { ok: true, sourceType: out.type, targetType: inp.type, input, slot };
}
