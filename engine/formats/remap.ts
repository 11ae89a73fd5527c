import type { JsonValue } from '../json.js';
import type { ObjectInfoEntry } from '../object-info.js';
import type { ApiWorkflow } from '../workflow.js';
import { EngineError } from '../errors.js';
import { isObject, type JsonObject } from './ui-graph.js';
import { hasNodeType } from './known-types.js';
import { layoutFor } from './widget-layout.js';

/** A `old=new` mapping argument that has no `=` or an empty side. */
export class ValueMapError extends EngineError {
  override name = 'ValueMapError';
}

/** Chooses which inputs a remap touches: (node type, input name, its object_info entry). */
export type InputSelector = (classType: string, inputName: string, entry: ObjectInfoEntry | undefined) => boolean;

export interface Remapped {
  readonly nodeId: string;
  readonly input: string;
  readonly from: string;
  readonly to: string;
}

/** Parses repeated `old=new` arguments (split at the first `=`) into a map. */
export function parseValueMap(pairs: readonly string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0 || at === pair.length - 1) throw new ValueMapError(`expected old=new, got '${pair}'`);
    map.set(pair.slice(0, at), pair.slice(at + 1));
  }
  return map;
}

/** Selects inputs by name (e.g. `ckpt_name`). */
export function inputNamed(name: string): InputSelector {
  return (_type, input) => input === name;
}

/** Selects combos flagged as uploads (`image_upload` and kin): LoadImage's `image`, LoadImageMask's, ... */
export const uploadInputs: InputSelector = (_type, input, entry) => {
  const spec = entry?.input?.required?.[input] ?? entry?.input?.optional?.[input];
  const o = spec?.[1];
  return o !== undefined && (o.image_upload === true || o.animated_image_upload === true || o.video_upload === true || o.audio_upload === true);
};

/** Replaces mapped string values of the selected inputs in an API workflow (a new object) and lists the changes. */
export function remapApiInputs(
  api: ApiWorkflow,
  objectInfo: Record<string, ObjectInfoEntry>,
  select: InputSelector,
  map: ReadonlyMap<string, string>,
): { workflow: ApiWorkflow; changed: Remapped[] } {
  const changed: Remapped[] = [];
  const workflow: ApiWorkflow = {};
  for (const [id, node] of Object.entries(api)) {
    const entry = hasNodeType(objectInfo, node.class_type) ? objectInfo[node.class_type] : undefined;
    const inputs: Record<string, JsonValue> = { ...node.inputs };
    for (const [name, v] of Object.entries(inputs)) {
      if (typeof v !== 'string' || !map.has(v) || !select(node.class_type, name, entry)) continue;
      inputs[name] = map.get(v)!;
      changed.push({ nodeId: id, input: name, from: v, to: map.get(v)! });
    }
    Object.defineProperty(workflow, id, { value: { ...node, inputs }, enumerable: true, writable: true, configurable: true });
  }
  return { workflow, changed };
}

/** The same on a UI document's `widgets_values` (positions found through the object_info), keeping its layout. */
export function remapUiWidgets(
  doc: JsonObject,
  objectInfo: Record<string, ObjectInfoEntry>,
  select: InputSelector,
  map: ReadonlyMap<string, string>,
): { document: JsonObject; changed: Remapped[] } {
  const changed: Remapped[] = [];
  const nodes = Array.isArray(doc.nodes) ? doc.nodes : [];
  const out = nodes.map((node) => {
    if (!isObject(node) || typeof node.type !== 'string' || !hasNodeType(objectInfo, node.type)) return node;
    const type = node.type;
    const entry = objectInfo[type]!;
    const wv = node.widgets_values;
    if (!Array.isArray(wv)) return node;
    const values = [...wv];
    layoutFor(entry, values.length).forEach((pos, i) => {
      const v = values[i];
      if (pos.role !== 'value' || typeof v !== 'string' || !map.has(v) || !select(type, pos.input, entry)) return;
      values[i] = map.get(v)!;
      changed.push({ nodeId: String(node.id), input: pos.input, from: v, to: map.get(v)! });
    });
    return { ...node, widgets_values: values };
  });
  return { document: { ...doc, nodes: out }, changed };
}
