import type { JsonValue } from '../json.js';
import type { ObjectInfoEntry } from '../object-info.js';
import type { ApiNode, ApiWorkflow, Link } from '../workflow.js';
import { isLink } from '../workflow.js';
import { UiWorkflowError, UnsupportedWorkflowFeatureError } from './format-errors.js';
import { assertKnownTypes, setOwn } from './known-types.js';
import { MODE_BYPASS, MODE_MUTED, isObject, readUiGraph, type UiGraph, type UiNode } from './ui-graph.js';
import { inlineSubgraphs } from './subgraphs.js';
import { layoutFor } from './widget-layout.js';

/** Frontend-only node types: never sent to the server (litegraph `isVirtualNode`). */
export const VIRTUAL_NODE_TYPES: ReadonlySet<string> = new Set(['Reroute', 'PrimitiveNode', 'Note', 'MarkdownNote']);

export interface UiToApiOptions {
  /** Told about links that point nowhere (left unconnected) and bypasses with no matching input. */
  onWarning?: (message: string) => void;
}

type Resolved = { readonly link: Link } | { readonly value: JsonValue } | undefined;

/** Arrays are reserved for links in API format; literal lists travel as `{__value__: [...]}`. */
function wrapLiteral(v: JsonValue): JsonValue {
  return Array.isArray(v) ? { __value__: v } : v;
}

/** litegraph's LiteGraph.isValidConnection: "*" and "" match anything; comma lists match if they share a type. */
export function typesConnect(a: string, b: string): boolean {
  if (a === '' || a === '*' || b === '' || b === '*' || a === b) return true;
  const as = a.toLowerCase().split(',');
  const bs = b.toLowerCase().split(',');
  return as.some((t) => bs.includes(t));
}

/** Which input a bypassed node hands through for output `slot` (ExecutableNodeDTO#getBypassSlotIndex). */
function bypassSlot(node: UiNode, slot: number, type: string): number {
  const outputType = node.outputs[slot]?.type ?? '*';
  if (type === '*' || type === '') return node.inputs.length > slot ? slot : node.inputs.length ? 0 : -1;
  const opposite = node.inputs[slot];
  if (opposite && typesConnect(opposite.type, outputType) && typesConnect(opposite.type, type)) return slot;
  const exact = node.inputs.findIndex((i) => i.type === type);
  if (exact !== -1) return exact;
  return node.inputs.findIndex((i) => typesConnect(i.type, outputType) && typesConnect(i.type, type));
}

/**
 * Follows a link to the node that really produces it, through Reroutes and bypassed nodes,
 * as ComfyUI frontend's ExecutableNodeDTO.resolveInput/resolveOutput do (as a loop, so long
 * Reroute chains cannot exhaust the stack).
 */
class LinkResolver {
  constructor(
    private readonly graph: UiGraph,
    private readonly warn: (message: string) => void,
  ) {}

  resolveInput(start: UiNode, startSlot: number): Resolved {
    const visited = new Set<string>();
    const seen = (key: string, node: UiNode, what: string) => {
      if (visited.has(key)) throw new UiWorkflowError(`link cycle through ${what} (Reroute or bypassed nodes feeding each other)`, node.id);
      visited.add(key);
    };
    let node = start;
    let slot = startSlot;
    let type: string | undefined;
    for (;;) {
      seen(`${node.id}[I]${slot}`, node, `input ${slot}`);
      const input = node.inputs[slot];
      if (!input || input.link === null) return undefined;
      const link = this.graph.links.get(input.link);
      if (!link) {
        this.warn(`node ${node.id} input '${input.name}': link ${input.link} does not exist; left unconnected`);
        return undefined;
      }
      const origin = this.graph.nodes.get(link.originId);
      if (!origin) {
        this.warn(`node ${node.id} input '${input.name}': link ${link.id} comes from missing node ${link.originId}; left unconnected`);
        return undefined;
      }
      const wanted = type ?? input.type;
      seen(`${origin.id}[O]${link.originSlot}`, origin, `output ${link.originSlot}`);
      if (origin.mode === MODE_BYPASS) {
        const index = bypassSlot(origin, link.originSlot, wanted);
        if (index === -1) {
          this.warn(`bypassed node ${origin.id} (${origin.type}) has no input of type ${wanted} to pass through; left unconnected`);
          return undefined;
        }
        // As the frontend: past a bypassed node, the type to match is that node's own input type.
        [node, slot, type] = [origin, index, undefined];
        continue;
      }
      if (origin.type === 'PrimitiveNode') {
        // The frontend's applyToGraph copies a primitive's value into every widget it feeds.
        const wv = origin.widgetsValues;
        return Array.isArray(wv) && wv.length > 0 ? { value: wv[0]! } : undefined;
      }
      if (VIRTUAL_NODE_TYPES.has(origin.type)) {
        if (!origin.inputs[link.originSlot]) return undefined;
        [node, slot, type] = [origin, link.originSlot, wanted];
        continue;
      }
      return { link: [origin.id, link.originSlot] };
    }
  }
}

function widgetInputs(node: UiNode, entry: ObjectInfoEntry): Record<string, JsonValue> {
  const inputs: Record<string, JsonValue> = {};
  const wv = node.widgetsValues;
  const layout = layoutFor(entry, Array.isArray(wv) ? wv.length : 0);
  layout.forEach((pos, i) => {
    if (pos.role !== 'value' || pos.forceInput) return;
    let value: JsonValue = pos.fallback;
    if (Array.isArray(wv)) {
      if (i < wv.length) value = wv[i]!;
    } else if (wv !== undefined && Object.hasOwn(wv, pos.input)) {
      value = wv[pos.input] ?? null;
    }
    setOwn(inputs, pos.input, wrapLiteral(value));
  });
  return inputs;
}

function rejectUnsupported(graph: UiGraph, active: readonly UiNode[]): void {
  const groupNodes = isObject(graph.doc.extra) && isObject(graph.doc.extra.groupNodes) ? graph.doc.extra.groupNodes : {};
  for (const node of active) {
    const group = /^workflow[>/](.*)$/.exec(node.type);
    if (group && Object.hasOwn(groupNodes, group[1]!)) {
      throw new UnsupportedWorkflowFeatureError(`node ${node.id} is a legacy group node '${group[1]}'; ungroup it in ComfyUI first`);
    }
  }
}

/**
 * UI (litegraph, schema 0.4 or 1) to API format, following ComfyUI frontend's graphToPrompt
 * (src/utils/executionUtil.ts): subgraphs inlined, widget values by `input_order`, links resolved
 * through Reroutes, Primitive nodes and bypassed nodes, muted and virtual nodes dropped.
 * Throws UiWorkflowError, UnknownNodeTypesError or UnsupportedWorkflowFeatureError.
 */
export function uiToApi(doc: JsonValue, objectInfo: Record<string, ObjectInfoEntry>, opts: UiToApiOptions = {}): ApiWorkflow {
  const warn = opts.onWarning ?? (() => {});
  const graph = inlineSubgraphs(readUiGraph(doc), objectInfo, warn);
  const active = [...graph.nodes.values()].filter((n) => n.mode !== MODE_MUTED && n.mode !== MODE_BYPASS && !VIRTUAL_NODE_TYPES.has(n.type));
  rejectUnsupported(graph, active);
  assertKnownTypes(active.map((n) => [n.id, n.type] as const), objectInfo);
  const resolver = new LinkResolver(graph, warn);
  const api: ApiWorkflow = {};
  for (const node of active) {
    const entry = objectInfo[node.type]!;
    const inputs = widgetInputs(node, entry);
    node.inputs.forEach((input, slot) => {
      if (input.link === null) return;
      const r = resolver.resolveInput(node, slot);
      if (r === undefined) return;
      setOwn(inputs, input.name, 'link' in r ? r.link : wrapLiteral(r.value));
    });
    const apiNode: ApiNode = { inputs, class_type: node.type, _meta: { title: node.title ?? entry.display_name ?? node.type } };
    setOwn(api, node.id, apiNode);
  }
  // As graphToPrompt: an input fed by a muted (removed) node is dropped, widget value and all.
  for (const node of Object.values(api)) {
    for (const [name, v] of Object.entries(node.inputs)) {
      if (isLink(v) && !Object.hasOwn(api, v[0])) delete node.inputs[name];
    }
  }
  return api;
}
