import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import sharp from 'sharp';
import { Client } from '@stable-canvas/comfyui-client';
import { startServerProcess, slowWorkflow, type ServerProcess } from './helpers.js';

let srv: ServerProcess;
let client: Client;

beforeAll(async () => {
  srv = await startServerProcess();
  client = new Client({ api_host: `127.0.0.1:${srv.port}`, clientId: 'sc-client', WebSocket, fetch });
});
afterAll(async () => {
  client?.close();
  await srv?.stop();
});

describe('@stable-canvas/comfyui-client against latentflow serve', () => {
  it('connects, reads system stats and node definitions', async () => {
    expect(await client.connect()).toBeTruthy();
    const stats = await client.getSystemStats();
    expect(stats.system.ram_total).toBeGreaterThan(0);
    const defs = await client.getNodeDefs();
    expect(Object.keys(defs)).toContain('SaveImage');
  });

  it('enqueues a workflow, reports progress over WS and resolves image URLs that /view serves', async () => {
    const progress: number[] = [];
    const out = await client.enqueue(slowWorkflow({ steps: 3 }), { progress: ({ value }: { value: number }) => progress.push(value) });
    expect(progress).toEqual([1, 2, 3]);
    // Like ComfyUI, the client also collects the binary preview frames as images (it decodes them
    // asynchronously, so the last one may land after the result).
    const kinds = out.images.map((i) => i.type);
    expect(kinds.filter((k) => k === 'url')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'buff').length).toBeGreaterThanOrEqual(1);
    const first = out.images[0]!.data;
    expect(first).toBeInstanceOf(ArrayBuffer);
    expect((await sharp(Buffer.from(first as ArrayBuffer)).metadata()).format).toBe('jpeg');
    const img = out.images.find((i) => i.type === 'url')!;
    const res = await fetch(String(img.data));
    expect(res.status).toBe(200);
    expect((await sharp(Buffer.from(await res.arrayBuffer())).metadata()).format).toBe('png');
    const history = await client.getHistory();
    expect(Object.keys(history).length).toBeGreaterThan(0);
  });

  it('enqueues with polling (queue and history routes only)', async () => {
    const out = await client.enqueue_polling(slowWorkflow({ steps: 1 }));
    expect(out.images).toHaveLength(1);
    const queue = await client.getQueue();
    expect(queue.Running).toEqual([]);
  });
});
