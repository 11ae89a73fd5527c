import type { JsonValue } from '../json.js';
import { UiWorkflowError } from './format-errors.js';

/** litegraph node modes (LGraphEventMode): only these two change what runs. */
export const MODE_MUTED = 2;
export const MODE_BYPASS = 4;

export type JsonObject = { [k: string]: JsonValue };

export interface UiInput {
  readonly name: string;
  readonly type: string;
  /** Link id, or null when nothing is connected. */
  readonly link: string | null;
  /** The input stands for a widget (old "converted widget" marker or the newer widget inputs). */
  readonly widget: boolean;
}

export interface UiOutput {
  readonly name: string;
  readonly type: string;
}

export interface UiNode {
  readonly id: string;
  readonly type: string;
  readonly mode: number;
  readonly title?: string;
  readonly inputs: readonly UiInput[];
  readonly outputs: readonly UiOutput[];
  /** Positional values (ComfyUI) or, for some custom nodes, values by widget name. */
  readonly widgetsValues: JsonValue[] | JsonObject | undefined;
  /** litegraph node properties (a subgraph instance keeps `proxyWidgets` here). */
  readonly properties?: JsonObject;
}

export interface UiLink {
  readonly id: string;
  readonly originId: string;
  readonly originSlot: number;
  readonly targetId: string;
  readonly targetSlot: number;
  readonly type: string;
}

/** A UI document read into maps; both link schemas (0.4 arrays, version-1 objects) land here. */
export interface UiGraph {
  readonly nodes: ReadonlyMap<string, UiNode>;
  readonly links: ReadonlyMap<string, UiLink>;
  readonly doc: JsonObject;
}

export function isObject(v: JsonValue | undefined): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** litegraph ids are integers or strings; huge integers arrive as bigint from parseJson. */
export function idOf(v: JsonValue | undefined): string | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return String(v);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'string' && v.length > 0) return v;
  return undefined;
}

function slotOf(v: JsonValue | undefined): number | undefined {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  return undefined;
}

/** litegraph types are strings, with -1/0 numbers for events and "any" in very old files. */
function typeOf(v: JsonValue | undefined): string {
  if (typeof v === 'string') return v;
  return '*';
}

function readInputs(raw: JsonValue | undefined, nodeId: string): UiInput[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new UiWorkflowError('inputs must be a list', nodeId);
  return raw.map((inp, i) => {
    if (!isObject(inp) || typeof inp.name !== 'string') throw new UiWorkflowError(`input ${i} has no name`, nodeId);
    const link = inp.link === null || inp.link === undefined ? null : idOf(inp.link);
    if (link === undefined) throw new UiWorkflowError(`input '${inp.name}' has an invalid link id`, nodeId);
    return { name: inp.name, type: typeOf(inp.type), link, widget: isObject(inp.widget) };
  });
}

function readOutputs(raw: JsonValue | undefined, nodeId: string): UiOutput[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new UiWorkflowError('outputs must be a list', nodeId);
  return raw.map((out, i) => {
    if (!isObject(out)) throw new UiWorkflowError(`output ${i} is not an object`, nodeId);
    return { name: typeof out.name === 'string' ? out.name : '', type: typeOf(out.type) };
  });
}

function readNode(raw: JsonValue, index: number): UiNode {
  if (!isObject(raw)) throw new UiWorkflowError(`nodes[${index}] is not an object`);
  const id = idOf(raw.id);
  if (id === undefined) throw new UiWorkflowError(`nodes[${index}] has no valid id`);
  if (typeof raw.type !== 'string' || raw.type === '') throw new UiWorkflowError('has no type', id);
  const mode = raw.mode === undefined || raw.mode === null ? 0 : raw.mode;
  if (typeof mode !== 'number') throw new UiWorkflowError('mode must be a number', id);
  const wv = raw.widgets_values;
  if (wv !== undefined && wv !== null && typeof wv !== 'object') throw new UiWorkflowError('widgets_values must be a list or an object', id);
  return {
    id,
    type: raw.type,
    mode,
    title: typeof raw.title === 'string' ? raw.title : undefined,
    inputs: readInputs(raw.inputs, id),
    outputs: readOutputs(raw.outputs, id),
    widgetsValues: wv === null ? undefined : wv,
    properties: isObject(raw.properties) ? raw.properties : undefined,
  };
}

function readLink(raw: JsonValue, index: number): UiLink {
  let parts: (JsonValue | undefined)[];
  if (Array.isArray(raw)) parts = raw;
  else if (isObject(raw)) parts = [raw.id, raw.origin_id, raw.origin_slot, raw.target_id, raw.target_slot, raw.type];
  else throw new UiWorkflowError(`links[${index}] is neither a list nor an object`);
  const [id, originId, originSlot, targetId, targetSlot] = [idOf(parts[0]), idOf(parts[1]), slotOf(parts[2]), idOf(parts[3]), slotOf(parts[4])];
  if (id === undefined || originId === undefined || originSlot === undefined || targetId === undefined || targetSlot === undefined) {
    throw new UiWorkflowError(`links[${index}] is malformed (want [id, origin_id, origin_slot, target_id, target_slot, type])`);
  }
  return { id, originId, originSlot, targetId, targetSlot, type: typeOf(parts[5]) };
}

/** Reads a litegraph document (ComfyUI 0.4 or version-1 schema) into a UiGraph; throws UiWorkflowError. */
export function readUiGraph(doc: JsonValue): UiGraph {
  if (!isObject(doc)) throw new UiWorkflowError('a UI workflow must be a JSON object');
  if (!Array.isArray(doc.nodes)) throw new UiWorkflowError("a UI workflow needs a 'nodes' list");
  const nodes = new Map<string, UiNode>();
  doc.nodes.forEach((raw, i) => {
    const node = readNode(raw, i);
    if (nodes.has(node.id)) throw new UiWorkflowError('appears twice in nodes', node.id);
    nodes.set(node.id, node);
  });
  const links = new Map<string, UiLink>();
  const rawLinks = doc.links ?? [];
  if (!Array.isArray(rawLinks)) throw new UiWorkflowError("'links' must be a list");
  rawLinks.forEach((raw, i) => {
    // NOTE: ComfyUI files sometimes hold null entries where a link was deleted.
    if (raw === null) return;
    const link = readLink(raw, i);
    links.set(link.id, link);
  });
  return { nodes, links, doc };
}
