import { withTokenParam } from './auth.js';
export interface SocketHandlers {
  message(type: string, data: Record<string, unknown>): void;
  /** A binary preview frame (type 1): the JPEG bytes from byte 8 on. */
  preview(jpeg: Blob): void;
  connected(ok: boolean): void;
}

const PREVIEW_IMAGE = 1;
const RETRY_MS = 1500;

/** Keeps a WebSocket to `/ws?clientId=` open, reconnecting after drops. Returns a closer. */
export function connectSocket(clientId: string, h: SocketHandlers): () => void {
  let ws: WebSocket | undefined;
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const open = (): void => {
    // ComfyUI clients open /ws at the server root, not under /api/.
    const url = new URL('ws', document.baseURI);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set('clientId', clientId);
    ws = new WebSocket(withTokenParam(url));
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => h.connected(true);
    ws.onclose = () => {
      h.connected(false);
      if (!closed) timer = setTimeout(open, RETRY_MS);
    };
    ws.onmessage = (ev: MessageEvent<unknown>) => {
      if (ev.data instanceof ArrayBuffer) {
        if (ev.data.byteLength < 8) return;
        const view = new DataView(ev.data);
        if (view.getUint32(0) === PREVIEW_IMAGE) h.preview(new Blob([ev.data.slice(8)], { type: view.getUint32(4) === 2 ? 'image/png' : 'image/jpeg' }));
        return;
      }
      if (typeof ev.data !== 'string') return;
      try {
        const msg: unknown = JSON.parse(ev.data);
        if (msg && typeof msg === 'object' && 'type' in msg && typeof msg.type === 'string' && 'data' in msg && msg.data && typeof msg.data === 'object') {
          h.message(msg.type, { ...msg.data });
        }
      } catch {
        // Not JSON: not a message of this protocol.
      }
    };
  };
  open();
  return () => {
    closed = true;
    if (timer) clearTimeout(timer);
    ws?.close();
  };
}
