import { useCallback, useEffect, useState } from 'react';
import {
  applyEdgeChanges,
  applyNodeChanges,
  type Connection,
  type EdgeChange,
  type FinalConnectionState,
  type IsValidConnection,
  type NodeChange,
  type ReactFlowInstance,
} from '@xyflow/react';
import { createEdge, createNode } from '../graph/build.js';
import { checkConnection } from '../graph/connect.js';
import type { NodeSpec } from '../graph/spec.js';
import type { GraphStore } from '../graph/store.js';
import { nextNodeId, type LfEdge, type LfNode } from '../graph/types.js';
import { orient } from './ConnectHint.js';

const REFUSAL_MS = 5000;

/** Why the last link was refused; it clears itself after a few seconds. */
export function useRefusal(): [string | undefined, (reason: string | undefined) => void] {
  const [refusal, setRefusal] = useState<string>();
  useEffect(() => {
    if (!refusal) return;
    const t = setTimeout(() => setRefusal(undefined), REFUSAL_MS);
    return () => clearTimeout(t);
  }, [refusal]);
  return [refusal, setRefusal];
}

export interface GraphEditing {
  readonly onNodesChange: (changes: NodeChange<LfNode>[]) => void;
  readonly onEdgesChange: (changes: EdgeChange<LfEdge>[]) => void;
  readonly isValidConnection: IsValidConnection<LfEdge>;
  readonly onConnect: (c: Connection) => void;
  readonly onConnectEnd: (e: MouseEvent | TouchEvent, s: FinalConnectionState) => void;
  /** Adds a node of `type`, selected alone, at `at` (flow coordinates) or the middle of the window. */
  readonly addNode: (type: string, at?: { x: number; y: number }) => void;
}

/**
 * React Flow's edits applied to the graph store. Deletions, links and new nodes are undo steps; drag
 * frames, selection and measurements are not. Specs are read through a ref because an upload may
 * refresh them while React Flow still holds these callbacks.
 */
export function useGraphEditing(
  store: GraphStore,
  specsRef: { readonly current: ReadonlyMap<string, NodeSpec> },
  flow: ReactFlowInstance<LfNode, LfEdge>,
  refuse: (reason: string) => void,
): GraphEditing {
  const onNodesChange = useCallback(
    (changes: NodeChange<LfNode>[]) => {
      const g = store.get();
      const next = { ...g, nodes: applyNodeChanges(changes, [...g.nodes]) };
      if (changes.some((c) => c.type === 'remove')) {
        const gone = new Set(changes.flatMap((c) => (c.type === 'remove' ? [c.id] : [])));
        store.commit({ nodes: next.nodes, edges: g.edges.filter((e) => !gone.has(e.source) && !gone.has(e.target)) }, 'delete');
      } else store.set(next);
    },
    [store],
  );

  const onEdgesChange = useCallback(
    (changes: EdgeChange<LfEdge>[]) => {
      const g = store.get();
      const next = { ...g, edges: applyEdgeChanges(changes, [...g.edges]) };
      if (changes.some((c) => c.type === 'remove')) store.commit(next, 'delete');
      else store.set(next);
    },
    [store],
  );

  const isValidConnection: IsValidConnection<LfEdge> = useCallback((c) => checkConnection(store.get(), specsRef.current, c).ok, [store, specsRef]);

  const onConnect = useCallback(
    (c: Connection) => {
      const g = store.get();
      const v = checkConnection(g, specsRef.current, c);
      if (!v.ok) {
        refuse(v.reason);
        return;
      }
      store.commit({ ...g, edges: [...g.edges, createEdge(c.source, v.slot, c.target, v.input, v.sourceType)] });
    },
    [store, specsRef, refuse],
  );

  // A drop on an incompatible handle never reaches onConnect: say why here.
  const onConnectEnd = useCallback(
    (_e: MouseEvent | TouchEvent, s: FinalConnectionState) => {
      if (!s.fromHandle || !s.toHandle || s.isValid) return;
      const v = checkConnection(store.get(), specsRef.current, orient(s.fromHandle, s.toHandle));
      if (!v.ok) refuse(v.reason);
    },
    [store, specsRef, refuse],
  );

  const addNode = useCallback(
    (type: string, at?: { x: number; y: number }) => {
      const spec = specsRef.current.get(type);
      if (!spec) return;
      const g = store.get();
      const pos = at ?? flow.screenToFlowPosition({ x: window.innerWidth / 2, y: window.innerHeight / 2 });
      const node = { ...createNode(spec, nextNodeId(g.nodes), pos), selected: true };
      store.commit({ nodes: [...g.nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), node], edges: g.edges });
    },
    [store, specsRef, flow],
  );

  return { onNodesChange, onEdgesChange, isValidConnection, onConnect, onConnectEnd, addNode };
}
