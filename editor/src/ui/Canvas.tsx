import { useCallback, useMemo, useState, type DragEvent, type MouseEvent as ReactMouseEvent, type ReactElement } from 'react';
import { Background, Controls, MiniMap, ReactFlow, useReactFlow } from '@xyflow/react';
import { socketColor } from '../graph/socket-colors.js';
import type { NodeSpec } from '../graph/spec.js';
import type { GraphStore } from '../graph/store.js';
import type { Graph, LfEdge, LfNode } from '../graph/types.js';
import { ConnectHint } from './ConnectHint.js';
import { FlowNode } from './FlowNode.js';
import type { GraphEditing } from './graph-editing.js';
import { SearchDialog } from './SearchDialog.js';

const NODE_TYPES = { lf: FlowNode };

/** The MIME type the palette puts on a dragged node type. */
const NODE_DRAG_TYPE = 'application/x-latentflow-node';

export interface CanvasProps {
  readonly graph: Graph;
  readonly store: GraphStore;
  readonly specs: ReadonlyMap<string, NodeSpec>;
  readonly editing: GraphEditing;
  readonly openFile: (file: File) => Promise<void>;
}

/**
 * The React Flow pane with its drop target (palette entries, workflow files) and the node search a
 * double-click on empty pane opens.
 */
export function Canvas({ graph, store, specs, editing, openFile }: CanvasProps): ReactElement {
  const flow = useReactFlow<LfNode, LfEdge>();
  const { addNode } = editing;
  const [search, setSearch] = useState<{ x: number; y: number; flow: { x: number; y: number } }>();

  const onDrop = useCallback(
    (e: DragEvent) => {
      e.preventDefault();
      const type = e.dataTransfer.getData(NODE_DRAG_TYPE);
      if (type) return addNode(type, flow.screenToFlowPosition({ x: e.clientX, y: e.clientY }));
      const file = e.dataTransfer.files[0];
      if (file) void openFile(file);
    },
    [addNode, openFile, flow],
  );

  const onDoubleClick = useCallback(
    (e: ReactMouseEvent) => {
      // Double-clicks on nodes, handles and widgets are theirs.
      if (!(e.target instanceof Element) || !e.target.classList.contains('react-flow__pane')) return;
      setSearch({ x: e.clientX, y: e.clientY, flow: flow.screenToFlowPosition({ x: e.clientX, y: e.clientY }) });
    },
    [flow],
  );

  // Colours are derived here, from the socket type, so the stored edges stay plain data.
  const edgesStyled = useMemo(
    () => graph.edges.map((e) => (e.style ? e : { ...e, style: { stroke: socketColor(e.data?.type ?? '*'), strokeWidth: 2 } })),
    [graph.edges],
  );

  return (
    <div className="lf-canvas" data-testid="canvas" onDrop={onDrop} onDragOver={(e) => e.preventDefault()} onDoubleClick={onDoubleClick}>
      <ReactFlow<LfNode, LfEdge>
        nodes={graph.nodes as LfNode[]}
        edges={edgesStyled}
        nodeTypes={NODE_TYPES}
        onNodesChange={editing.onNodesChange}
        onEdgesChange={editing.onEdgesChange}
        onConnect={editing.onConnect}
        onConnectEnd={editing.onConnectEnd}
        isValidConnection={editing.isValidConnection}
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
  );
}
