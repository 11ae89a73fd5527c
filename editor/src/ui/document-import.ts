import { useCallback } from 'react';
import type { ReactFlowInstance } from '@xyflow/react';
import type { JsonValue } from '../../../engine/json.js';
import type { ExecStore } from '../exec/store.js';
import { importDocument } from '../graph/import.js';
import type { NodeSpec, ObjectInfo } from '../graph/spec.js';
import type { GraphStore } from '../graph/store.js';
import type { LfEdge, LfNode } from '../graph/types.js';
import { readWorkflowFile } from './files.js';

export interface DocumentImport {
  /** Replaces the graph with a workflow document; `what` names it in warnings and errors. */
  readonly openDocument: (doc: JsonValue, what: string) => void;
  /** A dropped or chosen .json or .png file. */
  readonly openFile: (file: File) => Promise<void>;
}

export function useDocumentImport(
  store: GraphStore,
  exec: ExecStore,
  info: ObjectInfo,
  specsRef: { readonly current: ReadonlyMap<string, NodeSpec> },
  flow: ReactFlowInstance<LfNode, LfEdge>,
  setBanner: (message: string | undefined) => void,
): DocumentImport {
  const openDocument = useCallback(
    (doc: JsonValue, what: string) => {
      try {
        const imported = importDocument(doc, info, specsRef.current);
        store.commit(imported.graph);
        // Issues point at the old graph's node ids.
        exec.dispatch({ kind: 'clear-issues' });
        setBanner(imported.warnings.length ? `${what}: ${imported.warnings.join('; ')}` : undefined);
        if (imported.viewport) void flow.setViewport(imported.viewport);
        // Without a saved viewport, fit once React Flow has measured the new nodes.
        else setTimeout(() => void flow.fitView(), 50);
      } catch (e) {
        setBanner(`cannot open ${what}: ${e instanceof Error ? e.message : String(e)}`);
      }
    },
    [info, store, exec, specsRef, flow, setBanner],
  );

  const openFile = useCallback(
    async (file: File) => {
      try {
        openDocument(await readWorkflowFile(file), file.name);
      } catch (e) {
        setBanner(`cannot open ${file.name}: ${e instanceof Error ? e.message : String(e)}`);
      }
    },
    [openDocument, setBanner],
  );

  return { openDocument, openFile };
}
