import { useCallback, useEffect, useState } from 'react';
import type { ReactFlowInstance } from '@xyflow/react';
import { connectSocket } from '../api/socket.js';
import type { ExecStore } from '../exec/store.js';
import type { NodeSpec, ObjectInfo } from '../graph/spec.js';
import type { GraphStore } from '../graph/store.js';
import type { LfEdge, LfNode } from '../graph/types.js';
import { queueGraph } from './queue-action.js';

/** One id per page load: the server sends this tab's progress and previews to it alone. */
export const CLIENT_ID = crypto.randomUUID();

/** Messages after which the queue panel's lists are out of date. */
const QUEUE_CHANGES = new Set(['status', 'execution_success', 'execution_error', 'execution_interrupted']);

export interface ServerConnection {
  readonly connected: boolean;
  /** Changes whenever the queue panel should re-read the server's queue and history. */
  readonly queueVersion: number;
  readonly refreshQueue: () => void;
}

/** The WebSocket feeding run progress into the exec store, for as long as the editor is mounted. */
export function useServerConnection(exec: ExecStore): ServerConnection {
  const [connected, setConnected] = useState(false);
  const [queueVersion, setQueueVersion] = useState(0);
  const refreshQueue = useCallback(() => setQueueVersion((v) => v + 1), []);
  useEffect(
    () =>
      connectSocket(CLIENT_ID, {
        message: (type, data) => {
          exec.dispatch({ kind: 'ws', type, data });
          if (QUEUE_CHANGES.has(type)) refreshQueue();
        },
        preview: (jpeg) => exec.dispatch({ kind: 'preview', url: URL.createObjectURL(jpeg) }),
        connected: setConnected,
      }),
    [exec, refreshQueue],
  );
  return { connected, queueVersion, refreshQueue };
}

export interface QueueInputs {
  readonly store: GraphStore;
  readonly exec: ExecStore;
  /** A ref, so a spec refreshed by an upload is used without re-creating the callback. */
  readonly specsRef: { readonly current: ReadonlyMap<string, NodeSpec> };
  readonly info: ObjectInfo;
  readonly flow: ReactFlowInstance<LfNode, LfEdge>;
  readonly batch: number;
  /** Shows the refusal, or clears the banner once queued. */
  readonly setBanner: (message: string | undefined) => void;
  readonly refreshQueue: () => void;
}

/** Queues the graph `batch` times (toolbar button and Ctrl+Enter). */
export function useQueueAction({ store, exec, specsRef, info, flow, batch, setBanner, refreshQueue }: QueueInputs): () => Promise<void> {
  return useCallback(async () => {
    const r = await queueGraph({ store, exec, specs: specsRef.current, info, clientId: CLIENT_ID, viewport: () => flow.getViewport() }, batch);
    setBanner(r.ok ? undefined : r.message);
    refreshQueue();
  }, [store, exec, specsRef, info, flow, batch, setBanner, refreshQueue]);
}
