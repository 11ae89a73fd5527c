import type { JsonValue } from '../json.js';
import type { ObjectInfoEntry } from '../object-info.js';
import type { ApiWorkflow } from '../workflow.js';
import { isLink, unwrapLiteral } from '../workflow.js';
import { assertApiNodeTypes } from './known-types.js';
import { layoutColumns } from './layout.js';
import { LATENTFLOW_UI_VERSION } from './ui-version.js';
import { inputType, widgetKind, widgetPositions } from './widget-layout.js';

export type UiDocInput = { name: string; type: string; link: number | null; widget?: { name: string } };
export type UiDocOutput = { name: string; type: string; links: number[] | null; slot_index: number };
export type UiDocNode = {
  id: number | string;
  type: string;
  title?: string;
  pos: [number, number];
  size: [number, number];
  flags: Record<string, never>;
  order: number;
  mode: number;
  inputs: UiDocInput[];
  outputs: UiDocOutput[];
  properties: { 'Node name for S&R': string };
  widgets_values: JsonValue[];
};
/** `[id, origin_id, origin_slot, target_id, target_slot, type]`, litegraph schema 0.4. */
export type UiDocLink = [number, number | string, number, number | string, number, string];
/** latentflow's saved UI document: ComfyUI's schema 0.4 plus a `latentflow.version` marker. */
export type UiDocument = {
  last_node_id: number;
  last_link_id: number;
  nodes: UiDocNode[];
  links: UiDocLink[];
  groups: JsonValue[];
  config: Record<string, JsonValue>;
  extra: Record<string, JsonValue>;
  version: 0.4;
  latentflow: { version: number };
};

export interface ApiToUiOptions {
  /** Told about links to nodes that are not in the workflow (left unconnected). */
  onWarning?: (message: string) => void;
}

/** The saved value of a seed's control widget: "fixed" keeps the imported seed when re-queued. */
export const CONTROL_VALUE = 'fixed';
/** The saved value of ComfyUI's image upload button. */
export const UPLOAD_VALUE = 'image';

/** Integer-looking API ids become litegraph's numeric ids only when that prints back the same. */
function uiId(id: string): number | string {
  const n = Number(id);
  return Number.isSafeInteger(n) && String(n) === id ? n : id;
}

const NODE_WIDTH = 315;
const SLOT_HEIGHT = 24;

/**
 * API format to UI (litegraph schema 0.4): nodes in columns by depth, `widgets_values` in
 * `input_order` with the control and upload values ComfyUI's frontend keeps, and links.
 * `uiToApi(apiToUi(w))` gives back `w` (nodes without `_meta` gain `_meta.title`).
 * Throws UnknownNodeTypesError when a `class_type` is not in the object_info.
 */
export function apiToUi(api: ApiWorkflow, objectInfo: Record<string, ObjectInfoEntry>, opts: ApiToUiOptions = {}): UiDocument {
  assertApiNodeTypes(api, objectInfo);
  const warn = opts.onWarning ?? (() => {});
  const ids = Object.keys(api);
  const nodes = new Map<string, UiDocNode>();
  for (const id of ids) {
    const node = api[id]!;
    const entry = objectInfo[node.class_type]!;
    const widgets_values: JsonValue[] = widgetPositions(entry).map((pos) => {
      if (pos.role === 'control') return CONTROL_VALUE;
      if (pos.role === 'upload') return UPLOAD_VALUE;
      const v = node.inputs[pos.input];
      return v === undefined || isLink(v) ? pos.fallback : unwrapLiteral(v);
    });
    const inputs: UiDocInput[] = [];
    const order = [...(entry.input_order?.required ?? []), ...(entry.input_order?.optional ?? [])];
    for (const name of order) {
      const spec = entry.input?.required?.[name] ?? entry.input?.optional?.[name];
      const kind = widgetKind(spec);
      const isWidget = kind !== undefined && spec?.[1]?.forceInput !== true;
      if (isWidget && !isLink(node.inputs[name])) continue;
      inputs.push({ name, type: inputType(spec), link: null, ...(isWidget ? { widget: { name } } : {}) });
    }
    for (const [name, v] of Object.entries(node.inputs)) {
      if (isLink(v) && !inputs.some((i) => i.name === name)) inputs.push({ name, type: '*', link: null });
    }
    const outputs: UiDocOutput[] = entry.output.map((type, i) => ({ name: entry.output_name[i] ?? type, type, links: null, slot_index: i }));
    const height = 30 + SLOT_HEIGHT * (Math.max(inputs.length, outputs.length) + widgets_values.length);
    const title = node._meta?.title;
    nodes.set(id, {
      id: uiId(id),
      type: node.class_type,
      ...(typeof title === 'string' ? { title } : {}),
      pos: [0, 0],
      size: [NODE_WIDTH, height],
      flags: {},
      order: 0,
      mode: 0,
      inputs,
      outputs,
      properties: { 'Node name for S&R': node.class_type },
      widgets_values,
    });
  }

  const links: UiDocLink[] = [];
  for (const id of ids) {
    const target = nodes.get(id)!;
    target.inputs.forEach((input, slot) => {
      const v = api[id]!.inputs[input.name];
      if (!isLink(v)) return;
      const origin = nodes.get(v[0]);
      if (!origin) {
        warn(`node ${id} input '${input.name}': links to missing node ${v[0]}; left unconnected`);
        return;
      }
      while (origin.outputs.length <= v[1]) origin.outputs.push({ name: '*', type: '*', links: null, slot_index: origin.outputs.length });
      const out = origin.outputs[v[1]]!;
      const linkId = links.length + 1;
      links.push([linkId, origin.id, v[1], target.id, slot, out.type]);
      input.link = linkId;
      out.links = [...(out.links ?? []), linkId];
    });
  }

  const placement = layoutColumns(api, (id) => nodes.get(id)!.size[1]);
  const byDepth = [...ids].sort((a, b) => placement.get(a)!.depth - placement.get(b)!.depth);
  byDepth.forEach((id, i) => {
    const n = nodes.get(id)!;
    n.pos = placement.get(id)!.pos;
    n.order = i;
  });
  const lastNodeId = [...nodes.values()].reduce((m, n) => (typeof n.id === 'number' && n.id > m ? n.id : m), 0);
  return {
    last_node_id: lastNodeId,
    last_link_id: links.length,
    nodes: [...nodes.values()],
    links,
    groups: [],
    config: {},
    extra: {},
    version: 0.4,
    latentflow: { version: LATENTFLOW_UI_VERSION },
  };
}
