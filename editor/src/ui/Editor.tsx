import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore, type DragEvent, type ReactElement } from 'react';
import {
  Background,
  Controls,
  MiniMap,
  ReactFlow,
  applyEdgeChanges,
  applyNodeChanges,
  useReactFlow,
  type Connection,
  type EdgeChange,
  type FinalConnectionState,
  type IsValidConnection,
  type NodeChange,
} from '@xyflow/react';
import type { JsonValue } from '../../../engine/json.js';
import { fetchObjectInfo, interrupt, uploadImage } from '../api/client.js';
import { connectSocket } from '../api/socket.js';
import { ExecStore } from '../exec/store.js';
import { createEdge, createNode } from '../graph/build.js';
import { checkConnection } from '../graph/connect.js';
import { importDocument } from '../graph/import.js';
import { socketColor } from '../graph/socket-colors.js';
import { readNodeSpec, type NodeSpec, type ObjectInfo } from '../graph/spec.js';
import { GraphStore } from '../graph/store.js';
import { toApi } from '../graph/to-api.js';
import { toUiDocument } from '../graph/to-ui.js';
import { nextNodeId, type Graph, type LfEdge, type LfNode, type SeedControl } from '../graph/types.js';
import { copySelection, pasteInto } from './clipboard.js';
import { ConnectHint, orient } from './ConnectHint.js';
import { EditorContext, type EditorActions } from './context.js';
import { download, readWorkflowFile } from './files.js';
import { FlowNode } from './FlowNode.js';
import { Palette } from './Palette.js';
import { QueuePanel } from './QueuePanel.js';
import { queueGraph } from './queue-action.js';
import { SearchDialog } from './SearchDialog.js';
import { useAutosave } from './autosave.js';
import { useStaleMarks } from './stale-marks.js';
import { useInferredShapes } from './inferred-shapes.js';

const NODE_TYPES = { lf: FlowNode };
const CLIENT_ID = crypto.randomUUID();

function isEditable(t: EventTarget | null): boolean {
  return t instanceof HTMLElement && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName));
}

function patchNode(graph: Graph, id: string, f: (n: LfNode) => LfNode): Graph {
  return { ...graph, nodes: graph.nodes.map((n) => (n.id === id ? f(n) : n)) };
}

export interface EditorProps {
  readonly info: ObjectInfo;
  readonly specs: ReadonlyMap<string, NodeSpec>;
  readonly initial: Graph;
  readonly notice?: string;
}

export function Editor({ info: initialInfo, specs: initialSpecs, initial, notice }: EditorProps): ReactElement {
  const store = useMemo(() => new GraphStore(initial), [initial]);
  const exec = useMemo(() => new ExecStore(), []);
  const [info, setInfo] = useState(initialInfo);
  const [specs, setSpecs] = useState(initialSpecs);
  const graph = useSyncExternalStore(store.subscribe, store.get);
  const execState = useSyncExternalStore(exec.subscribe, exec.get);
  const flow = useReactFlow<LfNode, LfEdge>();
  const [banner, setBanner] = useState<string | undefined>(notice);
  const [refusal, setRefusal] = useState<string>();
  const [search, setSearch] = useState<{ x: number; y: number; flow: { x: number; y: number } }>();
  const [batch, setBatch] = useState(1);
  const [connected, setConnected] = useState(false);
  const [queueVersion, setQueueVersion] = useState(0);
  const [showPalette, setShowPalette] = useState(true);
  const clipboard = useRef<Graph | undefined>(undefined);
  const specsRef = useRef(specs);
  specsRef.current = specs;

  useAutosave(store, specs, info, () => flow.getViewport());
  useStaleMarks(graph, specs, exec, execState.lastRun);
  useInferredShapes(graph, specs, exec);

  useEffect(
    () =>
      connectSocket(CLIENT_ID, {
        message: (type, data) => {
          exec.dispatch({ kind: 'ws', type, data });
          if (type === 'status' || type === 'execution_success' || type === 'execution_error' || type === 'execution_interrupted') setQueueVersion((v) => v + 1);
        },
        preview: (jpeg) => exec.dispatch({ kind: 'preview', url: URL.createObjectURL(jpeg) }),
        connected: setConnected,
      }),
    [exec],
  );

  useEffect(() => {
    if (!refusal) return;
    const t = setTimeout(() => setRefusal(undefined), 5000);
    return () => clearTimeout(t);
  }, [refusal]);

  const actions: EditorActions = useMemo(
    () => ({
      specs,
      exec,
      setValue: (nodeId: string, input: string, value: JsonValue) => {
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
    [specs, exec, store],
  );

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

  const isValidConnection: IsValidConnection<LfEdge> = useCallback((c) => checkConnection(store.get(), specsRef.current, c).ok, [store]);

  const onConnect = useCallback(
    (c: Connection) => {
      const g = store.get();
      const v = checkConnection(g, specsRef.current, c);
      if (!v.ok) {
        setRefusal(v.reason);
        return;
      }
      store.commit({ ...g, edges: [...g.edges, createEdge(c.source, v.slot, c.target, v.input, v.sourceType)] });
    },
    [store],
  );

  const onConnectEnd = useCallback(
    (_e: MouseEvent | TouchEvent, s: FinalConnectionState) => {
      if (!s.fromHandle || !s.toHandle || s.isValid) return;
      const v = checkConnection(store.get(), specsRef.current, orient(s.fromHandle, s.toHandle));
      if (!v.ok) setRefusal(v.reason);
    },
    [store],
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
    [store, flow],
  );

  const openDocument = useCallback(
    (doc: JsonValue, what: string) => {
      try {
        const imported = importDocument(doc, info, specsRef.current);
        store.commit(imported.graph);
        exec.dispatch({ kind: 'clear-issues' });
        setBanner(imported.warnings.length ? `${what}: ${imported.warnings.join('; ')}` : undefined);
        if (imported.viewport) void flow.setViewport(imported.viewport);
        else setTimeout(() => void flow.fitView(), 50);
      } catch (e) {
        setBanner(`cannot open ${what}: ${e instanceof Error ? e.message : String(e)}`);
      }
    },
    [info, store, exec, flow],
  );

  const openFile = useCallback(
    async (file: File) => {
      try {
        openDocument(await readWorkflowFile(file), file.name);
      } catch (e) {
        setBanner(`cannot open ${file.name}: ${e instanceof Error ? e.message : String(e)}`);
      }
    },
    [openDocument],
  );

  const queue = useCallback(async () => {
    const r = await queueGraph({ store, exec, specs: specsRef.current, info, clientId: CLIENT_ID, viewport: () => flow.getViewport() }, batch);
    setBanner(r.ok ? undefined : r.message);
    setQueueVersion((v) => v + 1);
  }, [store, exec, info, flow, batch]);

  const undo = useCallback(() => store.undo(), [store]);
  const redo = useCallback(() => store.redo(), [store]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      const mod = e.ctrlKey || e.metaKey;
      if (mod && e.key === 'Enter') {
        e.preventDefault();
        void queue();
        return;
      }
      if (!mod || isEditable(e.target)) return;
      const k = e.key.toLowerCase();
      if (k === 'z' && !e.shiftKey) undo();
      else if ((k === 'z' && e.shiftKey) || k === 'y') redo();
      else if (k === 'c') clipboard.current = copySelection(store.get());
      else if (k === 'v' && clipboard.current) store.commit(pasteInto(store.get(), clipboard.current, { x: 40, y: 40 }));
      else if (k === 's') download('workflow.json', toUiDocument(store.get(), specsRef.current, info, flow.getViewport()));
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [queue, undo, redo, store, info, flow]);

  const onDrop = useCallback(
    (e: DragEvent) => {
      e.preventDefault();
      const type = e.dataTransfer.getData('application/x-latentflow-node');
      if (type) return addNode(type, flow.screenToFlowPosition({ x: e.clientX, y: e.clientY }));
      const file = e.dataTransfer.files[0];
      if (file) void openFile(file);
    },
    [addNode, openFile, flow],
  );

  const onDoubleClick = useCallback(
    (e: React.MouseEvent) => {
      if (!(e.target instanceof Element) || !e.target.classList.contains('react-flow__pane')) return;
      setSearch({ x: e.clientX, y: e.clientY, flow: flow.screenToFlowPosition({ x: e.clientX, y: e.clientY }) });
    },
    [flow],
  );

  const edgesStyled = useMemo(
    () => graph.edges.map((e) => (e.style ? e : { ...e, style: { stroke: socketColor(e.data?.type ?? '*'), strokeWidth: 2 } })),
    [graph.edges],
  );

  return (
    <EditorContext.Provider value={actions}>
      <div className="lf-app">
        <header className="lf-toolbar">
          <strong>latentflow</strong>
          <button data-testid="queue-button" title="Ctrl+Enter" onClick={() => void queue()}>
            Queue
          </button>
          <label>
            batch <input data-testid="batch-count" type="number" min={1} max={100} value={batch} onChange={(e) => setBatch(Math.max(1, Number(e.target.value) || 1))} />
          </label>
          <button data-testid="interrupt-button" onClick={() => void interrupt()}>
            Interrupt
          </button>
          <span className="lf-sep" />
          <button data-testid="undo-button" disabled={!store.canUndo} onClick={undo}>
            Undo
          </button>
          <button data-testid="redo-button" disabled={!store.canRedo} onClick={redo}>
            Redo
          </button>
          <button data-testid="fit-button" onClick={() => void flow.fitView()}>
            Fit
          </button>
          <button onClick={() => setShowPalette((s) => !s)}>Nodes</button>
          <span className="lf-sep" />
          <button data-testid="save-button" onClick={() => download('workflow.json', toUiDocument(store.get(), specs, info, flow.getViewport()))}>
            Save
          </button>
          <label className="lf-file-button">
            Load
            <input data-testid="load-input" type="file" accept=".json,.png,application/json,image/png" onChange={(e) => { const f = e.target.files?.[0]; if (f) void openFile(f); e.target.value = ''; }} />
          </label>
          <button data-testid="export-api-button" onClick={() => download('workflow_api.json', toApi(store.get(), specs))}>
            Export API
          </button>
          <span className="lf-grow" />
          <span data-testid="connection-status" className={connected ? 'lf-ok' : 'lf-bad'}>
            {connected ? 'connected' : 'offline'}
          </span>
          <span data-testid="queue-remaining">queue: {execState.queueRemaining}</span>
        </header>
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
          {showPalette && <Palette specs={specs} onAdd={(t) => addNode(t)} />}
          <div className="lf-canvas" data-testid="canvas" onDrop={onDrop} onDragOver={(e) => e.preventDefault()} onDoubleClick={onDoubleClick}>
            <ReactFlow<LfNode, LfEdge>
              nodes={graph.nodes as LfNode[]}
              edges={edgesStyled}
              nodeTypes={NODE_TYPES}
              onNodesChange={onNodesChange}
              onEdgesChange={onEdgesChange}
              onConnect={onConnect}
              onConnectEnd={onConnectEnd}
              isValidConnection={isValidConnection}
              onNodeDragStart={() => store.checkpoint()}
              onlyRenderVisibleElements
              zoomOnDoubleClick={false}
              deleteKeyCode={['Delete', 'Backspace']}
              multiSelectionKeyCode={['Control', 'Meta', 'Shift']}
              minZoom={0.05}
              fitView
            >
              <Background />
              <Controls />
              <MiniMap pannable zoomable nodeColor={(n) => (n.selected ? '#fff' : '#6b7a99')} />
              <ConnectHint graph={store.get} specs={specs} />
            </ReactFlow>
            {search && (
              <SearchDialog
                specs={specs}
                at={search}
                onClose={() => setSearch(undefined)}
                onPick={(t) => {
                  addNode(t, search.flow);
                  setSearch(undefined);
                }}
              />
            )}
          </div>
          <QueuePanel version={queueVersion} onOpen={(wf) => openDocument(wf, 'history item')} />
        </div>
      </div>
    </EditorContext.Provider>
  );
}
