import type { JsonValue } from '../../../engine/json.js';
import type { ApiWorkflow } from '../../../engine/workflow.js';
import { isLink, unwrapLiteral } from '../../../engine/workflow.js';
import { apiToUi } from '../../../engine/formats/api-to-ui.js';
import { uiToApi } from '../../../engine/formats/ui-to-api.js';
import { migrate } from '../../../engine/formats/migrate.js';
import { idOf, isObject, type JsonObject } from '../../../engine/formats/ui-graph.js';
import { layoutFor } from '../../../engine/formats/widget-layout.js';
import { assertApiNodeTypes } from '../../../engine/formats/known-types.js';
import { layoutColumns } from '../../../engine/formats/layout.js';
import { WorkflowFormatError } from '../../../engine/formats/format-errors.js';
import { createEdge, createNode } from './build.js';
import type { NodeSpec, ObjectInfo } from './spec.js';
import { isSeedControl, type Graph, type LfEdge, type LfNode, type SeedControl } from './types.js';

export type DocumentKind = 'ui' | 'api';

export interface ImportedGraph {
  readonly graph: Graph;
  readonly kind: DocumentKind;
  /** The viewport saved in the document (`extra.ds`), if any. */
  readonly viewport?: { x: number; y: number; zoom: number };
  readonly warnings: readonly string[];
}

function isApiDoc(doc: JsonValue): doc is JsonObject {
  if (!isObject(doc)) return false;
  const nodes = Object.values(doc);
  return nodes.length > 0 && nodes.every((n) => isObject(n) && typeof n.class_type === 'string');
}

function asApi(doc: JsonObject): ApiWorkflow {
  const api: ApiWorkflow = {};
  for (const [id, raw] of Object.entries(doc)) {
    if (!isObject(raw) || typeof raw.class_type !== 'string') continue;
    const inputs = isObject(raw.inputs) ? raw.inputs : {};
    const title = isObject(raw._meta) && typeof raw._meta.title === 'string' ? raw._meta.title : undefined;
    api[id] = { class_type: raw.class_type, inputs: { ...inputs }, ...(title ? { _meta: { title } } : {}) };
  }
  return api;
}

function pairOf(v: JsonValue | undefined): [number, number] | undefined {
  if (Array.isArray(v) && typeof v[0] === 'number' && typeof v[1] === 'number') return [v[0], v[1]];
  if (isObject(v) && typeof v['0'] === 'number' && typeof v['1'] === 'number') return [v['0'], v['1']];
  return undefined;
}

/** NOTE: narrower than this, widget rows stop being usable. */
const MIN_WIDTH = 160;

interface UiExtras {
  readonly pos?: [number, number];
  /** Width from the document's `size`; heights follow this editor's rows, which differ from litegraph's. */
  readonly width?: number;
  readonly title?: string;
  readonly controls: Record<string, SeedControl>;
}

/**
 * Positions, titles, seed controls and (with `sizes`) widths: what a UI document holds beyond the
 * API prompt. Sizes are read only from opened documents, not from api-to-ui's estimates.
 */
/** Subgraph definitions of a UI document by id (ComfyUI frontend: definitions.subgraphs). */
function subgraphDefinitions(ui: JsonObject): Map<string, JsonObject> {
  const list = isObject(ui.definitions) ? ui.definitions.subgraphs : undefined;
  const defs = new Map<string, JsonObject>();
  if (Array.isArray(list)) for (const d of list) if (isObject(d) && typeof d.id === 'string') defs.set(d.id, d);
  return defs;
}

/** NOTE: deeper nesting than the engine's inliner accepts never reaches the editor. */
const MAX_SUBGRAPH_DEPTH = 32;

function uiExtras(ui: JsonObject, info: ObjectInfo, sizes: boolean): Map<string, UiExtras> {
  const out = new Map<string, UiExtras>();
  const defs = subgraphDefinitions(ui);
  const visit = (nodes: readonly JsonValue[], prefix: string, shift: [number, number], depth: number): void => {
    for (const raw of nodes) {
      if (!isObject(raw)) continue;
      const own = idOf(raw.id);
      if (own === undefined) continue;
      const id = prefix + own;
      const controls: Record<string, SeedControl> = {};
      const entry = typeof raw.type === 'string' && Object.hasOwn(info, raw.type) ? info[raw.type] : undefined;
      const wv = raw.widgets_values;
      if (entry && Array.isArray(wv)) {
        layoutFor(entry, wv.length).forEach((p, i) => {
          if (p.role === 'control' && isSeedControl(wv[i])) controls[p.input] = wv[i];
        });
      }
      const at = pairOf(raw.pos);
      const pos: [number, number] | undefined = at ? [at[0] + shift[0], at[1] + shift[1]] : undefined;
      const size = sizes ? pairOf(raw.size) : undefined;
      const width = size && Number.isFinite(size[0]) && size[0] > 0 ? Math.max(MIN_WIDTH, Math.round(size[0])) : undefined;
      out.set(id, { pos, width, title: typeof raw.title === 'string' ? raw.title : undefined, controls });
      // The engine inlines subgraphs as `instance:inner`; their nodes unfold where the instance stood.
      const def = typeof raw.type === 'string' ? defs.get(raw.type) : undefined;
      if (def && Array.isArray(def.nodes) && depth < MAX_SUBGRAPH_DEPTH) {
        const inner = def.nodes.flatMap((n) => (isObject(n) ? [pairOf(n.pos)] : [])).filter((p) => p !== undefined);
        const left = inner.length ? Math.min(...inner.map((p) => p[0])) : 0;
        const top = inner.length ? Math.min(...inner.map((p) => p[1])) : 0;
        const origin = pos ?? [0, 0];
        visit(def.nodes, `${id}:`, [origin[0] - left, origin[1] - top], depth + 1);
      }
    }
  };
  visit(Array.isArray(ui.nodes) ? ui.nodes : [], '', [0, 0], 0);
  return out;
}

function viewportOf(ui: JsonObject): ImportedGraph['viewport'] {
  const ds = isObject(ui.extra) ? ui.extra.ds : undefined;
  if (!isObject(ds) || typeof ds.scale !== 'number') return undefined;
  const offset = pairOf(ds.offset);
  if (!offset) return undefined;
  // litegraph draws at (pos + offset) * scale; React Flow at pos * zoom + (x, y).
  return { x: offset[0] * ds.scale, y: offset[1] * ds.scale, zoom: ds.scale };
}

/** NOTE: row heights of FlowNode's CSS (title 26 px, rows 24 px, textareas 3 lines). */
function drawnHeight(spec: NodeSpec | undefined): number {
  if (!spec) return 60;
  const sockets = Math.max(spec.inputs.filter((i) => i.widget === undefined || i.forceInput).length, spec.outputs.length);
  const widgets = spec.inputs.filter((i) => i.widget !== undefined && !i.forceInput);
  const extra = widgets.reduce((h, w) => h + (w.options.multiline === true ? 48 : w.control ? 24 : 0) + (w.widget === 'INT' || w.widget === 'FLOAT' ? 12 : 0), 0);
  return 34 + 24 * (sockets + widgets.length) + extra;
}

/** The editor graph of an API prompt, with positions and controls from its UI form. */
export function graphFromApi(api: ApiWorkflow, specs: ReadonlyMap<string, NodeSpec>, extras: Map<string, UiExtras>): Graph {
  const nodes: LfNode[] = [];
  for (const [id, apiNode] of Object.entries(api)) {
    const spec = specs.get(apiNode.class_type);
    if (!spec) continue;
    const ex = extras.get(id);
    const node = createNode(spec, id, { x: ex?.pos?.[0] ?? 0, y: ex?.pos?.[1] ?? 0 });
    if (ex?.width !== undefined) node.width = ex.width;
    for (const [name, v] of Object.entries(apiNode.inputs)) {
      if (!isLink(v)) node.data.values[name] = unwrapLiteral(v);
    }
    // An imported seed keeps its value unless the document says otherwise (ComfyUI's "fixed").
    for (const name of Object.keys(node.data.controls)) node.data.controls[name] = ex?.controls[name] ?? 'fixed';
    const title = ex?.title ?? apiNode._meta?.title;
    if (title && title !== spec.displayName) node.data.title = title;
    nodes.push(node);
  }
  const known = new Set(nodes.map((n) => n.id));
  const edges: LfEdge[] = [];
  for (const [id, apiNode] of Object.entries(api)) {
    if (!known.has(id)) continue;
    for (const [name, v] of Object.entries(apiNode.inputs)) {
      if (!isLink(v) || !known.has(v[0])) continue;
      const type = specs.get(api[v[0]]!.class_type)?.outputs[v[1]]?.type ?? '*';
      edges.push(createEdge(v[0], v[1], id, name, type));
    }
  }
  return { nodes, edges };
}

/**
 * Opens any workflow document: ComfyUI/latentflow UI (litegraph 0.4 or 1), API format, or a
 * saved `/prompt` body. Conversion goes through the engine's own ui-to-api / api-to-ui.
 */
export function importDocument(doc: JsonValue, info: ObjectInfo, specs: ReadonlyMap<string, NodeSpec>): ImportedGraph {
  const warnings: string[] = [];
  const onWarning = (m: string): void => void warnings.push(m);
  if (isObject(doc) && Array.isArray(doc.nodes)) {
    const ui = migrate(doc);
    const api = uiToApi(ui, info, { onWarning });
    return { graph: graphFromApi(api, specs, uiExtras(ui, info, true)), kind: 'ui', viewport: viewportOf(ui), warnings };
  }
  const body = isObject(doc) && isApiDoc(doc.prompt) ? doc.prompt : doc;
  if (!isApiDoc(body)) {
    throw new WorkflowFormatError('not a workflow: expected a UI document (with a nodes list) or API format ({id: {class_type, inputs}})');
  }
  const api = asApi(body);
  assertApiNodeTypes(api, info);
  const extras = uiExtras(apiToUi(api, info, { onWarning }), info, false);
  // API documents carry no positions: lay out by depth with the heights this editor draws.
  for (const [id, place] of layoutColumns(api, (id) => drawnHeight(specs.get(api[id]!.class_type)))) {
    extras.set(id, { ...(extras.get(id) ?? { controls: {} }), pos: place.pos });
  }
  return { graph: graphFromApi(api, specs, extras), kind: 'api', warnings };
}
