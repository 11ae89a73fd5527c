import { useCallback, useMemo, useRef, useState, useSyncExternalStore, type ReactElement } from 'react';
import { useReactFlow } from '@xyflow/react';
import { interrupt } from '../api/client.js';
import { ExecStore } from '../exec/store.js';
import type { NodeSpec, ObjectInfo } from '../graph/spec.js';
import { GraphStore } from '../graph/store.js';
import { toApi } from '../graph/to-api.js';
import { toUiDocument } from '../graph/to-ui.js';
import type { Graph, LfEdge, LfNode } from '../graph/types.js';
import { useAutosave } from './autosave.js';
import { Canvas } from './Canvas.js';
import { EditorContext } from './context.js';
import { useDocumentImport } from './document-import.js';
import { download } from './files.js';
import { useGraphEditing, useRefusal } from './graph-editing.js';
import { useInferredShapes } from './inferred-shapes.js';
import { useNodeActions } from './node-actions.js';
import { Palette } from './Palette.js';
import { QueuePanel } from './QueuePanel.js';
import { useQueueAction, useServerConnection } from './server-connection.js';
import { useShortcuts } from './shortcuts.js';
import { useStaleMarks } from './stale-marks.js';
import { Toolbar } from './Toolbar.js';

export interface EditorProps {
  readonly info: ObjectInfo;
  readonly specs: ReadonlyMap<string, NodeSpec>;
  readonly initial: Graph;
  readonly notice?: string;
}

/**
 * The whole editor: owns the graph and exec stores and the server's node definitions, and wires the
 * hooks of each concern (editing, connection, import, shortcuts) into the toolbar, palette, canvas and
 * queue panel.
 */
export function Editor({ info: initialInfo, specs: initialSpecs, initial, notice }: EditorProps): ReactElement {
  const store = useMemo(() => new GraphStore(initial), [initial]);
  const exec = useMemo(() => new ExecStore(), []);
  const [info, setInfo] = useState(initialInfo);
  const [specs, setSpecs] = useState(initialSpecs);
  const graph = useSyncExternalStore(store.subscribe, store.get);
  const execState = useSyncExternalStore(exec.subscribe, exec.get);
  const flow = useReactFlow<LfNode, LfEdge>();
  const [banner, setBanner] = useState<string | undefined>(notice);
  const [batch, setBatch] = useState(1);
  const [showPalette, setShowPalette] = useState(true);
  // Callbacks handed to React Flow outlive a render; they read the specs an upload may have refreshed.
  const specsRef = useRef(specs);
  specsRef.current = specs;

  useAutosave(store, specs, info, () => flow.getViewport());
  useStaleMarks(graph, specs, exec, execState.lastRun);
  useInferredShapes(graph, specs, exec);
  const { connected, queueVersion, refreshQueue } = useServerConnection(exec);
  const [refusal, setRefusal] = useRefusal();

  const actions = useNodeActions({ store, exec, specs, setInfo, setSpecs, setBanner });
  const editing = useGraphEditing(store, specsRef, flow, setRefusal);
  const { openDocument, openFile } = useDocumentImport(store, exec, info, specsRef, flow, setBanner);
  const queue = useQueueAction({ store, exec, specsRef, info, flow, batch, setBanner, refreshQueue });
  const undo = useCallback(() => store.undo(), [store]);
  const redo = useCallback(() => store.redo(), [store]);
  useShortcuts({ store, specsRef, info, flow, queue, undo, redo });

  return (
    <EditorContext.Provider value={actions}>
      <div className="lf-app">
        <Toolbar
          batch={batch}
          setBatch={setBatch}
          canUndo={store.canUndo}
          canRedo={store.canRedo}
          connected={connected}
          queueRemaining={execState.queueRemaining}
          onQueue={() => void queue()}
          onInterrupt={() => void interrupt()}
          onUndo={undo}
          onRedo={redo}
          onFit={() => void flow.fitView()}
          onTogglePalette={() => setShowPalette((s) => !s)}
          onSave={() => download('workflow.json', toUiDocument(store.get(), specs, info, flow.getViewport()))}
          onLoad={(f) => void openFile(f)}
          onExportApi={() => download('workflow_api.json', toApi(store.get(), specs))}
        />
        {(banner ?? execState.message) && (
          <div className="lf-banner" data-testid="banner" onClick={() => setBanner(undefined)}>
            {banner ?? execState.message}
          </div>
        )}
        {refusal && (
          <div className="lf-refusal" data-testid="connect-refused">
            link refused: {refusal}
          </div>
        )}
        <div className="lf-main">
          {showPalette && <Palette specs={specs} onAdd={(t) => editing.addNode(t)} />}
          <Canvas graph={graph} store={store} specs={specs} editing={editing} openFile={openFile} />
          <QueuePanel version={queueVersion} onOpen={(wf) => openDocument(wf, 'history item')} />
        </div>
      </div>
    </EditorContext.Provider>
  );
}
