/**
 * ComfyUI frontend subgraphs (workflowSchema.ts: `definitions.subgraphs`; litegraph's boundary
 * pseudo-nodes SUBGRAPH_INPUT_ID -10 and SUBGRAPH_OUTPUT_ID -20) inlined into one flat UI graph, so
 * the UI-to-API conversion sees ordinary nodes. Inner nodes are numbered `instance:inner` (nested:
 * `a:b:c`), as the frontend numbers them in the API prompts it sends.
 */
import type { JsonValue } from '../json.js';
import type { ObjectInfoEntry } from '../object-info.js';
import { UiWorkflowError } from './format-errors.js';
import { MODE_BYPASS, MODE_MUTED, idOf, isObject, readUiGraph, type JsonObject, type UiGraph, type UiInput, type UiLink, type UiNode } from './ui-graph.js';

const INPUT_NODE = '-10';
const OUTPUT_NODE = '-20';
/** NOTE: proxyWidgets entries with this node id promote the widget of a subgraph input. */
const SUBGRAPH_INPUT_WIDGET = '-1';
const MAX_DEPTH = 32;

interface SubgraphIo {
  readonly name: string;
  readonly type: string;
}

interface Definition {
  readonly id: string;
  readonly name: string;
  readonly graph: UiGraph;
  readonly inputs: readonly SubgraphIo[];
  readonly outputs: readonly SubgraphIo[];
}

/** An output slot of a node of the flat graph. */
interface Source {
  readonly id: string;
  readonly slot: number;
}

/** What a subgraph's boundary connects to: sources for its inputs, and the sources its outputs collect. */
interface Boundary {
  readonly feeds: readonly (Source | undefined)[];
  readonly outputs: (Source | undefined)[];
}

type FlatNode = Omit<UiNode, 'inputs'> & { inputs: UiInput[] };

function readIo(raw: JsonValue | undefined, what: string, name: string): SubgraphIo[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new UiWorkflowError(`subgraph '${name}': ${what} must be a list`);
  return raw.map((io, i) => {
    if (!isObject(io) || typeof io.name !== 'string') throw new UiWorkflowError(`subgraph '${name}': ${what}[${i}] has no name`);
    return { name: io.name, type: typeof io.type === 'string' ? io.type : '*' };
  });
}

/** The subgraph definitions of a document, by id. */
function readDefinitions(doc: JsonObject): Map<string, Definition> {
  const list = isObject(doc.definitions) ? doc.definitions.subgraphs : undefined;
  const defs = new Map<string, Definition>();
  if (list === undefined || list === null) return defs;
  if (!Array.isArray(list)) throw new UiWorkflowError('definitions.subgraphs must be a list');
  list.forEach((raw, i) => {
    if (!isObject(raw) || typeof raw.id !== 'string' || raw.id === '') throw new UiWorkflowError(`definitions.subgraphs[${i}] has no id`);
    const name = typeof raw.name === 'string' ? raw.name : raw.id;
    let graph: UiGraph;
    try {
      graph = readUiGraph({ nodes: raw.nodes ?? [], links: raw.links ?? [] });
    } catch (e) {
      throw new UiWorkflowError(`subgraph '${name}': ${e instanceof Error ? e.message : String(e)}`);
    }
    defs.set(raw.id, { id: raw.id, name, graph, inputs: readIo(raw.inputs, 'inputs', name), outputs: readIo(raw.outputs, 'outputs', name) });
  });
  return defs;
}

function hasInput(entry: ObjectInfoEntry, name: string): boolean {
  return Object.hasOwn(entry.input.required ?? {}, name) || Object.hasOwn(entry.input.optional ?? {}, name);
}

/** Values an instance gives its promoted widgets: by subgraph input name, and by inner node and widget. */
interface InstanceValues {
  readonly inputs: Map<string, JsonValue>;
  readonly inner: { readonly nodeId: string; readonly name: string; readonly value: JsonValue }[];
}

class Inliner {
  readonly nodes = new Map<string, FlatNode>();
  readonly links = new Map<string, UiLink>();
  /** The sources each expanded instance's outputs stand for, by the instance's flat id. */
  private readonly outputs = new Map<string, (Source | undefined)[]>();

  constructor(
    private readonly defs: ReadonlyMap<string, Definition>,
    private readonly objectInfo: Record<string, ObjectInfoEntry>,
    private readonly warn: (message: string) => void,
  ) {}

  expand(graph: UiGraph, prefix: string, stack: readonly string[], boundary?: Boundary): void {
    const flat = (id: string) => prefix + id;
    const instances: [UiNode, Definition][] = [];
    for (const node of graph.nodes.values()) {
      const def = this.defs.get(node.type);
      // Muted and bypassed instances stay single nodes: removed, or passed through by type, as any node.
      if (def && node.mode !== MODE_MUTED && node.mode !== MODE_BYPASS) {
        instances.push([node, def]);
        continue;
      }
      this.nodes.set(flat(node.id), { ...node, id: flat(node.id), inputs: node.inputs.map((i) => ({ ...i, link: i.link === null ? null : flat(i.link) })) });
    }
    const expanded = new Set(instances.map(([n]) => n.id));
    for (const link of graph.links.values()) {
      if (expanded.has(link.targetId)) continue; // the instance's own inner links replace it
      const source = this.sourceOf(link, flat, boundary);
      if (link.targetId === OUTPUT_NODE) {
        if (!boundary) throw new UiWorkflowError(`link ${link.id} ends at a subgraph output outside any subgraph`);
        boundary.outputs[link.targetSlot] = source;
        continue;
      }
      if (!source) {
        this.unlink(flat(link.targetId), flat(link.id));
        continue;
      }
      this.links.set(flat(link.id), { ...link, id: flat(link.id), originId: source.id, originSlot: source.slot, targetId: flat(link.targetId) });
    }
    for (const [node, def] of instances) {
      if (stack.includes(def.id) || stack.length >= MAX_DEPTH) throw new UiWorkflowError(`subgraph '${def.name}' contains itself`, flat(node.id));
      const values = this.instanceValues(node, flat(node.id));
      const feeds = def.inputs.map((io, i) => this.feed(node, io, i, values, graph, flat, boundary));
      const inner: Boundary = { feeds, outputs: def.outputs.map(() => undefined) };
      const innerPrefix = `${flat(node.id)}:`;
      this.expand(def.graph, innerPrefix, [...stack, def.id], inner);
      for (const v of values.inner) this.overrideWidget(innerPrefix + v.nodeId, v.name, v.value, flat(node.id));
      this.outputs.set(flat(node.id), inner.outputs);
    }
  }

  /** The flat graph, with links out of expanded instances moved to the inner nodes that feed those outputs. */
  finish(doc: JsonObject): UiGraph {
    for (const [id, link] of this.links) {
      let source: Source | undefined = { id: link.originId, slot: link.originSlot };
      for (let hops = 0; source && this.outputs.has(source.id); hops++) {
        if (hops > this.outputs.size) throw new UiWorkflowError(`subgraph outputs feed each other in a loop`, source.id);
        const from: Source = source;
        source = this.outputs.get(from.id)![from.slot];
        if (!source) this.warn(`node ${from.id}: subgraph output ${from.slot} is not connected inside the subgraph; left unconnected`);
      }
      if (!source) {
        this.links.delete(id);
        this.unlink(link.targetId, id);
      } else if (source.id !== link.originId || source.slot !== link.originSlot) {
        this.links.set(id, { ...link, originId: source.id, originSlot: source.slot });
      }
    }
    return { nodes: this.nodes, links: this.links, doc };
  }

  private sourceOf(link: UiLink, flat: (id: string) => string, boundary: Boundary | undefined): Source | undefined {
    if (link.originId !== INPUT_NODE) return { id: flat(link.originId), slot: link.originSlot };
    if (!boundary) throw new UiWorkflowError(`link ${link.id} starts at a subgraph input outside any subgraph`);
    return boundary.feeds[link.originSlot];
  }

  private unlink(nodeId: string, linkId: string): void {
    const node = this.nodes.get(nodeId);
    if (!node) return;
    node.inputs = node.inputs.map((i) => (i.link === linkId ? { ...i, link: null } : i));
  }

  /**
   * proxyWidgets pairs [inner node id, widget] with the instance's widgets_values; without them, the
   * values belong to the instance's widget inputs in order. Values that do not line up are not guessed.
   */
  private instanceValues(node: UiNode, flatId: string): InstanceValues {
    const out: InstanceValues = { inputs: new Map(), inner: [] };
    const wv = node.widgetsValues;
    const proxies = node.properties?.proxyWidgets;
    if (Array.isArray(proxies) && proxies.length > 0) {
      if (!Array.isArray(wv) || wv.length !== proxies.length) {
        this.warn(`node ${flatId}: ${proxies.length} promoted widgets but ${Array.isArray(wv) ? wv.length : 0} values; the subgraph's own values are kept`);
        return out;
      }
      proxies.forEach((p, k) => {
        const nodeId = Array.isArray(p) ? idOf(p[0]) : undefined;
        const name = Array.isArray(p) ? p[1] : undefined;
        if (nodeId === undefined || typeof name !== 'string') return;
        if (nodeId === SUBGRAPH_INPUT_WIDGET) out.inputs.set(name, wv[k]!);
        else out.inner.push({ nodeId, name, value: wv[k]! });
      });
      return out;
    }
    const widgets = node.inputs.filter((i) => i.widget);
    if (Array.isArray(wv)) widgets.forEach((inp, k) => k < wv.length && out.inputs.set(inp.name, wv[k]!));
    else if (wv !== undefined) for (const inp of widgets) if (Object.hasOwn(wv, inp.name)) out.inputs.set(inp.name, wv[inp.name]!);
    return out;
  }

  /** What subgraph input `i` receives: the link into the instance's matching input, or its widget value. */
  private feed(node: UiNode, io: SubgraphIo, i: number, values: InstanceValues, graph: UiGraph, flat: (id: string) => string, boundary: Boundary | undefined): Source | undefined {
    const slot = node.inputs.findIndex((inp) => inp.name === io.name);
    const input = node.inputs[slot === -1 ? i : slot];
    if (input && input.link !== null) {
      const link = graph.links.get(input.link);
      if (link) return this.sourceOf(link, flat, boundary);
      this.warn(`node ${flat(node.id)} input '${input.name}': link ${input.link} does not exist; left unconnected`);
      return undefined;
    }
    if (!values.inputs.has(io.name)) return undefined;
    return this.primitive(`${flat(node.id)}:input:${io.name}`, values.inputs.get(io.name)!, io.type);
  }

  /** A value as the output of a PrimitiveNode, which the converter folds into whatever it feeds. */
  private primitive(id: string, value: JsonValue, type: string): Source {
    this.nodes.set(id, { id, type: 'PrimitiveNode', mode: 0, inputs: [], outputs: [{ name: type, type }], widgetsValues: [value] });
    return { id, slot: 0 };
  }

  private overrideWidget(nodeId: string, name: string, value: JsonValue, instanceId: string): void {
    const node = this.nodes.get(nodeId);
    if (!node) {
      this.warn(`node ${instanceId}: promoted widget '${name}' of inner node ${nodeId} not found; ignored`);
      return;
    }
    const entry = this.objectInfo[node.type];
    // Frontend-only widgets (control_after_generate, upload) are promoted too; they are not inputs.
    if (!entry || !hasInput(entry, name)) return;
    const slot = node.inputs.findIndex((i) => i.name === name);
    if (slot !== -1 && node.inputs[slot]!.link !== null) return;
    const source = this.primitive(`${nodeId}:widget:${name}`, value, '*');
    const linkId = source.id;
    const input: UiInput = { name, type: '*', link: linkId, widget: true };
    if (slot === -1) node.inputs.push(input);
    else node.inputs[slot] = input;
    this.links.set(linkId, { id: linkId, originId: source.id, originSlot: 0, targetId: nodeId, targetSlot: slot === -1 ? node.inputs.length - 1 : slot, type: '*' });
  }
}

/** `graph` with every active subgraph instance replaced by its definition's nodes; unchanged without definitions. */
export function inlineSubgraphs(graph: UiGraph, objectInfo: Record<string, ObjectInfoEntry>, warn: (message: string) => void): UiGraph {
  const defs = readDefinitions(graph.doc);
  if (defs.size === 0) return graph;
  const inliner = new Inliner(defs, objectInfo, warn);
  inliner.expand(graph, '', []);
  return inliner.finish(graph.doc);
}
