import { randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';
import { stringifyJson } from '../engine/index.js';

/** ComfyUI's binary event types (server.py BinaryEventTypes). */
export const BINARY = { PREVIEW_IMAGE: 1, PREVIEW_IMAGE_WITH_METADATA: 4 } as const;
/** Format code inside a type 1 frame. */
const JPEG = 1;

interface Client {
  readonly id: string;
  readonly ws: WebSocket;
  previewMetadata: boolean;
}

export interface PreviewMeta {
  node_id: string;
  prompt_id: string;
  display_node_id: string;
  parent_node_id: string | null;
  real_node_id: string;
}

/** The features this server announces (`/features` and the WS `feature_flags` reply). */
export function serverFeatures(maxUploadSize: number): { supports_preview_metadata: boolean; max_upload_size: number } {
  return { supports_preview_metadata: true, max_upload_size: maxUploadSize };
}

/** Connected WebSocket clients by client id; routes per-prompt messages and broadcasts the rest. */
export class WsHub {
  private readonly clients = new Map<string, Set<Client>>();

  constructor(private readonly features: Record<string, unknown>) {}

  get size(): number {
    let n = 0;
    for (const s of this.clients.values()) n += s.size;
    return n;
  }

  /** Registers a socket; `onOpen` sends the greeting (status, resumed `executing`). */
  attach(ws: WebSocket, requestedId: string | null, onOpen: (clientId: string) => void): void {
    const id = requestedId && /^[\w.:-]{1,128}$/.test(requestedId) ? requestedId : randomUUID().replace(/-/g, '');
    const client: Client = { id, ws, previewMetadata: false };
    let set = this.clients.get(id);
    if (!set) this.clients.set(id, (set = new Set()));
    set.add(client);
    ws.on('message', (data, isBinary) => this.onMessage(client, data, isBinary));
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      const s = this.clients.get(id);
      s?.delete(client);
      if (s && s.size === 0) this.clients.delete(id);
    });
    onOpen(id);
  }

  private onMessage(client: Client, data: WebSocket.RawData, isBinary: boolean): void {
    // NOTE: 1003 = unsupported data, 1007 = invalid payload (RFC 6455 section 7.4.1).
    if (isBinary) return client.ws.close(1003, 'binary messages are not accepted');
    let msg: unknown;
    try {
      msg = JSON.parse(Buffer.isBuffer(data) ? data.toString('utf8') : String(data));
    } catch {
      return client.ws.close(1007, 'messages must be JSON');
    }
    if (typeof msg !== 'object' || msg === null || !('type' in msg)) return client.ws.close(1007, 'messages must be {type, data}');
    if (msg.type === 'feature_flags') {
      const data = 'data' in msg && typeof msg.data === 'object' && msg.data !== null ? msg.data : {};
      client.previewMetadata = 'supports_preview_metadata' in data && data.supports_preview_metadata === true;
      this.sendTo(client, 'feature_flags', this.features);
    }
  }

  private sendTo(client: Client, type: string, data: unknown): void {
    if (client.ws.readyState === WebSocket.OPEN) client.ws.send(stringifyJson({ type, data }));
  }

  private targets(clientId: string | null): Client[] {
    if (clientId === null) return [...this.clients.values()].flatMap((s) => [...s]);
    return [...(this.clients.get(clientId) ?? [])];
  }

  /** To the prompt's client, or to everyone when the prompt has no client id (as ComfyUI's send_sync). */
  /** Whether a message for `clientId` would reach anyone now. */
  hasListener(clientId: string | null): boolean {
    return this.targets(clientId).length > 0;
  }

  send(clientId: string | null, type: string, data: unknown): void {
    for (const c of this.targets(clientId)) this.sendTo(c, type, data);
  }

  broadcast(type: string, data: unknown): void {
    this.send(null, type, data);
  }

  /** Type 1 `[1][1=JPEG][bytes]`, or type 4 `[4][u32 len][metadata JSON][bytes]` for clients that asked. */
  sendPreview(clientId: string | null, jpeg: Uint8Array, meta: PreviewMeta): void {
    const targets = this.targets(clientId).filter((c) => c.ws.readyState === WebSocket.OPEN);
    if (!targets.length) return;
    let plain: Buffer | undefined;
    let withMeta: Buffer | undefined;
    for (const c of targets) {
      if (c.previewMetadata) {
        if (!withMeta) {
          const json = Buffer.from(JSON.stringify({ ...meta, image_type: 'image/jpeg' }), 'utf8');
          const head = Buffer.alloc(8);
          head.writeUInt32BE(BINARY.PREVIEW_IMAGE_WITH_METADATA, 0);
          head.writeUInt32BE(json.length, 4);
          withMeta = Buffer.concat([head, json, jpeg]);
        }
        c.ws.send(withMeta, { binary: true });
      } else {
        if (!plain) {
          const head = Buffer.alloc(8);
          head.writeUInt32BE(BINARY.PREVIEW_IMAGE, 0);
          head.writeUInt32BE(JPEG, 4);
          plain = Buffer.concat([head, jpeg]);
        }
        c.ws.send(plain, { binary: true });
      }
    }
  }

  closeAll(): void {
    for (const s of this.clients.values()) for (const c of s) c.ws.terminate();
    this.clients.clear();
  }
}
