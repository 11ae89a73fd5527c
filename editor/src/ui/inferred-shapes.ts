import { useEffect, useRef } from 'react';
import { fetchShapes } from '../api/client.js';
import type { ExecStore } from '../exec/store.js';
import type { NodeSpec } from '../graph/spec.js';
import { toApi } from '../graph/to-api.js';
import type { Graph, LfNodeData } from '../graph/types.js';

/** NOTE: typing in a widget changes the graph on every key; one request per pause is enough. */
const DEBOUNCE_MS = 250;

interface Sent {
  readonly specs: ReadonlyMap<string, NodeSpec>;
  readonly data: readonly LfNodeData[];
  readonly links: string;
}

/**
 * Keeps the exec store's inferred output shapes in step with the graph: after an edit settles, the
 * server infers them for the current prompt (POST /latentflow/shapes). Moves and selections change
 * neither node data nor links, so they send nothing; a newer edit cancels the request of an older one.
 */
export function useInferredShapes(graph: Graph, specs: ReadonlyMap<string, NodeSpec>, exec: ExecStore): void {
  const last = useRef<Sent | undefined>(undefined);
  const pending = useRef<AbortController | undefined>(undefined);
  useEffect(() => {
    const data = graph.nodes.map((n) => n.data);
    const links = graph.edges.map((e) => `${e.source}/${e.sourceHandle}>${e.target}/${e.targetHandle}`).join(',');
    const prev = last.current;
    if (prev && prev.specs === specs && prev.links === links && prev.data.length === data.length && prev.data.every((d, i) => d === data[i])) return;
    last.current = { specs, data, links };
    pending.current?.abort();
    const abort = new AbortController();
    pending.current = abort;
    const timer = setTimeout(() => {
      fetchShapes(toApi(graph, specs), abort.signal).then(
        (shapes) => abort.signal.aborted || exec.dispatch({ kind: 'shapes', shapes }),
        // Shapes are a hint: a failed request leaves them unknown.
        () => abort.signal.aborted || exec.dispatch({ kind: 'shapes', shapes: {} }),
      );
    }, DEBOUNCE_MS);
    abort.signal.addEventListener('abort', () => clearTimeout(timer));
  }, [graph, specs, exec]);
  useEffect(() => () => pending.current?.abort(), []);
}
