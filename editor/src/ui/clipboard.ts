import { nextNodeId, type Graph, type LfEdge, type LfNode } from '../graph/types.js';
import { createEdge } from '../graph/build.js';
import { inputNameOf, outputSlotOf } from '../graph/types.js';

/** Selected nodes and the links among them. */
export function copySelection(graph: Graph): Graph | undefined {
  const nodes = graph.nodes.filter((n) => n.selected);
  if (nodes.length === 0) return undefined;
  const ids = new Set(nodes.map((n) => n.id));
  return { nodes, edges: graph.edges.filter((e) => ids.has(e.source) && ids.has(e.target)) };
}

/** `graph` with a copy of `clip` added under fresh ids, offset, and selected alone. */
export function pasteInto(graph: Graph, clip: Graph, offset: { x: number; y: number }): Graph {
  const ids = new Map<string, string>();
  const all: { id: string }[] = [...graph.nodes];
  const added: LfNode[] = clip.nodes.map((n) => {
    const id = nextNodeId(all);
    all.push({ id });
    ids.set(n.id, id);
    return {
      id,
      type: 'lf',
      position: { x: n.position.x + offset.x, y: n.position.y + offset.y },
      selected: true,
      data: { ...n.data, values: { ...n.data.values }, controls: { ...n.data.controls } },
    };
  });
  const edges: LfEdge[] = [];
  for (const e of clip.edges) {
    const s = ids.get(e.source);
    const t = ids.get(e.target);
    const slot = outputSlotOf(e.sourceHandle);
    const input = inputNameOf(e.targetHandle);
    if (s && t && slot !== undefined && input !== undefined) edges.push(createEdge(s, slot, t, input, e.data?.type ?? '*'));
  }
  return {
    nodes: [...graph.nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), ...added],
    edges: [...graph.edges.map((e) => (e.selected ? { ...e, selected: false } : e)), ...edges],
  };
}
