import type { NodeDefinition } from './define-node.js';
import type { NodeRegistry } from './registry.js';
import type { Services } from './services.js';
import { comboOptions, type InputSpec } from './inputs.js';

/** One input as `/object_info` publishes it: `[type or options list, options]`. */
export type ObjectInfoInput = [string | readonly string[], Record<string, unknown>];

/** ComfyUI's `/object_info` entry, key for key. */
export interface ObjectInfoEntry {
  input: { required: Record<string, ObjectInfoInput>; optional?: Record<string, ObjectInfoInput>; hidden?: Record<string, string> };
  input_order: { required: string[]; optional?: string[]; hidden?: string[] };
  output: string[];
  output_is_list: boolean[];
  output_name: string[];
  output_tooltips?: (string | undefined)[];
  name: string;
  display_name: string;
  description: string;
  python_module: string;
  category: string;
  output_node: boolean;
  deprecated?: boolean;
  experimental?: boolean;
}

function inputInfo(spec: InputSpec, services: Services): ObjectInfoInput {
  if (spec.kind === 'COMBO') return [comboOptions(spec, services), { ...spec.info }];
  return [spec.socket, { ...spec.info }];
}

function section(inputs: Record<string, InputSpec>, services: Services): Record<string, ObjectInfoInput> {
  const out: Record<string, ObjectInfoInput> = {};
  for (const [name, spec] of Object.entries(inputs)) out[name] = inputInfo(spec, services);
  return out;
}

/** Builds the `/object_info` entry of one node from its definition (the only description of it). */
export function objectInfoEntry(def: NodeDefinition, services: Services): ObjectInfoEntry {
  const entry: ObjectInfoEntry = {
    input: { required: section(def.inputs, services) },
    input_order: { required: Object.keys(def.inputs) },
    output: def.outputs.map((o) => o.socket.id),
    output_is_list: def.outputs.map((o) => o.list),
    output_name: def.outputs.map((o) => o.name),
    name: def.type,
    display_name: def.displayName,
    description: def.description,
    python_module: 'latentflow',
    category: def.category,
    output_node: def.outputNode,
  };
  if (def.outputs.some((o) => o.tooltip !== undefined)) entry.output_tooltips = def.outputs.map((o) => o.tooltip);
  const optional = Object.keys(def.optional);
  if (optional.length) {
    entry.input.optional = section(def.optional, services);
    entry.input_order.optional = optional;
  }
  const hidden = Object.keys(def.hidden);
  if (hidden.length) {
    entry.input.hidden = { ...def.hidden };
    entry.input_order.hidden = hidden;
  }
  if (def.deprecated) entry.deprecated = true;
  if (def.experimental) entry.experimental = true;
  return entry;
}

export function objectInfo(registry: NodeRegistry, services: Services): Record<string, ObjectInfoEntry> {
  const out: Record<string, ObjectInfoEntry> = {};
  for (const def of registry.all()) out[def.type] = objectInfoEntry(def, services);
  return out;
}
