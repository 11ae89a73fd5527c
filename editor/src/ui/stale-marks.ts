import { useEffect, useRef } from 'react';
import type { ExecStore } from '../exec/store.js';
import type { NodeSpec } from '../graph/spec.js';
import { staleNodes, type LastRun } from '../graph/stale.js';
import { toApi } from '../graph/to-api.js';
import type { Graph, LfEdge, LfNodeData } from '../graph/types.js';

interface Inputs {
  readonly ids: readonly string[];
  readonly data: readonly LfNodeData[];
  readonly edges: readonly LfEdge[];
  readonly specs: ReadonlyMap<string, NodeSpec>;
  readonly lastRun: LastRun | undefined;
}

function sameList<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Keeps the exec store's stale marks in step with the graph and the last finished run. Dragging,
 * selecting and measuring replace node objects but not their data, so those skip the recomputation.
 */
export function useStaleMarks(graph: Graph, specs: ReadonlyMap<string, NodeSpec>, exec: ExecStore, lastRun: LastRun | undefined): void {
  const prev = useRef<Inputs | undefined>(undefined);
  useEffect(() => {
    const next: Inputs = { ids: graph.nodes.map((n) => n.id), data: graph.nodes.map((n) => n.data), edges: graph.edges, specs, lastRun };
    const p = prev.current;
    prev.current = next;
    if (p && p.specs === specs && p.lastRun === lastRun && sameList(p.ids, next.ids) && sameList(p.data, next.data) && (p.edges === graph.edges || sameEdges(p.edges, graph.edges))) return;
    exec.dispatch({ kind: 'stale', ids: staleNodes(toApi(graph, specs), lastRun) });
  }, [graph, specs, exec, lastRun]);
}

/** Selecting an edge replaces the edge objects; only its ends matter here. */
function sameEdges(a: readonly LfEdge[], b: readonly LfEdge[]): boolean {
  return a.length === b.length && a.every((e, i) => e.id === b[i]!.id);
}
