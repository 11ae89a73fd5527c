import { useMemo, type Dispatch, type SetStateAction } from 'react';
import type { JsonValue } from '../../../engine/json.js';
import { fetchObjectInfo, uploadImage } from '../api/client.js';
import type { ExecStore } from '../exec/store.js';
import { readNodeSpec, type NodeSpec, type ObjectInfo } from '../graph/spec.js';
import type { GraphStore } from '../graph/store.js';
import type { Graph, LfNode, SeedControl } from '../graph/types.js';
import type { EditorActions } from './context.js';

function patchNode(graph: Graph, id: string, f: (n: LfNode) => LfNode): Graph {
  return { ...graph, nodes: graph.nodes.map((n) => (n.id === id ? f(n) : n)) };
}

export interface NodeActionInputs {
  readonly store: GraphStore;
  readonly exec: ExecStore;
  readonly specs: ReadonlyMap<string, NodeSpec>;
  /** An upload adds a file to the server's combo choices, so the editor's copy is refreshed. */
  readonly setInfo: Dispatch<SetStateAction<ObjectInfo>>;
  readonly setSpecs: Dispatch<SetStateAction<ReadonlyMap<string, NodeSpec>>>;
  readonly setBanner: (message: string | undefined) => void;
}

/** The widget edits node components make through EditorContext. */
export function useNodeActions({ store, exec, specs, setInfo, setSpecs, setBanner }: NodeActionInputs): EditorActions {
  return useMemo(
    () => ({
      specs,
      exec,
      setValue: (nodeId: string, input: string, value: JsonValue) => {
        // Keyed by field, so the keystrokes of one edit share an undo step.
        store.commit(patchNode(store.get(), nodeId, (n) => ({ ...n, data: { ...n.data, values: { ...n.data.values, [input]: value } } })), `${nodeId}\u0000${input}`);
        exec.dispatch({ kind: 'clear-issue', node: nodeId, input });
      },
      setControl: (nodeId: string, input: string, mode: SeedControl) =>
        store.commit(patchNode(store.get(), nodeId, (n) => ({ ...n, data: { ...n.data, controls: { ...n.data.controls, [input]: mode } } }))),
      upload: (nodeId: string, input: string, file: File) => {
        void (async () => {
          try {
            const ref = await uploadImage(file);
            const node = store.get().nodes.find((n) => n.id === nodeId);
            // The combo's choices come from the server: re-read this node type to list the new file.
            const fresh = node ? await fetchObjectInfo().catch(() => undefined) : undefined;
            if (fresh && node && fresh[node.data.classType]) {
              setInfo(fresh);
              setSpecs((old) => new Map(old).set(node.data.classType, readNodeSpec(fresh[node.data.classType]!)));
            }
            const value = ref.subfolder ? `${ref.subfolder}/${ref.filename}` : ref.filename;
            store.commit(patchNode(store.get(), nodeId, (n) => ({ ...n, data: { ...n.data, values: { ...n.data.values, [input]: value } } })));
          } catch (e) {
            setBanner(`upload failed: ${e instanceof Error ? e.message : String(e)}`);
          }
        })();
      },
    }),
    // The setters are React state dispatchers, stable for the editor's lifetime.
    [specs, exec, store, setInfo, setSpecs, setBanner],
  );
}
