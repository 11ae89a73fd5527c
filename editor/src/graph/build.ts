import type { JsonValue } from '../../../engine/json.js';
import type { NodeSpec } from './spec.js';
import { edgeId, inHandle, outHandle, type LfEdge, type LfNode, type SeedControl } from './types.js';

/** A fresh node with every widget at its `/object_info` default and seeds randomized after queueing. */
export function createNode(spec: NodeSpec, id: string, position: { x: number; y: number }): LfNode {
  const values: Record<string, JsonValue> = {};
  const controls: Record<string, SeedControl> = {};
  for (const def of spec.inputs) {
    if (def.widget === undefined) continue;
    values[def.name] = def.fallback;
    if (def.control) controls[def.name] = 'randomize';
  }
  return { id, type: 'lf', position, data: { classType: spec.type, values, controls } };
}

export function createEdge(source: string, slot: number, target: string, input: string, type: string): LfEdge {
  return {
    id: edgeId(source, slot, target, input),
    source,
    sourceHandle: outHandle(slot),
    target,
    targetHandle: inHandle(input),
    data: { type },
  };
}
