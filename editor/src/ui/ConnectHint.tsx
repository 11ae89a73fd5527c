import type { ReactElement } from 'react';
import { useConnection, ViewportPortal } from '@xyflow/react';
import { checkConnection } from '../graph/connect.js';
import type { NodeSpec } from '../graph/spec.js';
import type { Graph } from '../graph/types.js';

/** The endpoints of an in-progress drag as a source -> target connection, whichever end it started from. */
export function orient(from: { nodeId: string; id?: string | null; type: string }, to: { nodeId: string; id?: string | null }) {
  return from.type === 'source'
    ? { source: from.nodeId, sourceHandle: from.id ?? null, target: to.nodeId, targetHandle: to.id ?? null }
    : { source: to.nodeId, sourceHandle: to.id ?? null, target: from.nodeId, targetHandle: from.id ?? null };
}

/** Shows, while dragging a link over a socket, why it would be refused. */
export function ConnectHint({ graph, specs }: { graph: () => Graph; specs: ReadonlyMap<string, NodeSpec> }): ReactElement | null {
  const c = useConnection();
  if (!c.inProgress || !c.toHandle || !c.fromHandle) return null;
  const verdict = checkConnection(graph(), specs, orient(c.fromHandle, c.toHandle));
  if (verdict.ok) return null;
  // `to` is in flow coordinates, hence the viewport portal.
  return (
    <ViewportPortal>
      <div className="lf-connect-hint" data-testid="connect-reason" style={{ transform: `translate(${c.to.x + 14}px, ${c.to.y + 14}px)` }}>
        {verdict.reason}
      </div>
    </ViewportPortal>
  );
}
