import type { JsonValue } from '../../../engine/json.js';
import type { ApiWorkflow } from '../../../engine/workflow.js';
import type { NodeSpec } from './spec.js';
import { inputNameOf, outputSlotOf, type Graph } from './types.js';

/** Arrays are links in API format; literal lists travel as `{__value__: [...]}` (spec/api.md). */
function literal(v: JsonValue): JsonValue {
  return Array.isArray(v) ? { __value__: v } : v;
}

/**
 * The API-format prompt of the editor graph: each input is its link, else its widget value.
 * Inputs neither linked nor with a widget are left out (validation reports them).
 */
export function toApi(graph: Graph, specs: ReadonlyMap<string, NodeSpec>): ApiWorkflow {
  const links = new Map<string, [string, number]>();
  for (const e of graph.edges) {
    const input = inputNameOf(e.targetHandle);
    const slot = outputSlotOf(e.sourceHandle);
    if (input !== undefined && slot !== undefined) links.set(`${e.target}\u0000${input}`, [e.source, slot]);
  }
  const api: ApiWorkflow = {};
  for (const node of graph.nodes) {
    const spec = specs.get(node.data.classType);
    const inputs: Record<string, JsonValue> = {};
    const names = spec ? spec.inputs.map((i) => i.name) : Object.keys(node.data.values);
    for (const name of names) {
      const link = links.get(`${node.id}\u0000${name}`);
      if (link) inputs[name] = link;
      else if (Object.hasOwn(node.data.values, name)) inputs[name] = literal(node.data.values[name]!);
    }
    api[node.id] = { class_type: node.data.classType, inputs, _meta: { title: node.data.title ?? spec?.displayName ?? node.data.classType } };
  }
  return api;
}
