import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { startServerProcess, WsRecorder, slowWorkflow, postJson, getJson, waitJob, type ServerProcess } from './helpers.js';

let srv: ServerProcess;

beforeAll(async () => {
  srv = await startServerProcess();
});
afterAll(async () => {
  await srv?.stop();
});

describe('ComfyUI protocol over a real server process', () => {
  it('renders step previews only when a WebSocket client of the prompt is connected as it starts', async () => {
    const flag = (client: string, value: number) => ({
      prompt: { '1': slowWorkflow({ steps: 1, delayMs: 0, value })['1'], '2': { class_type: 'PreviewFlag', inputs: { images: ['1', 0] } } },
      client_id: client,
    });
    const wants = async (body: object) => {
      const r = await postJson(`${srv.url}/prompt`, body);
      const id = (r.json as { prompt_id: string }).prompt_id;
      await waitJob(srv.url, id);
      const h = await getJson<Record<string, { outputs: Record<string, { wants_previews: boolean[] }> }>>(`${srv.url}/history/${id}`);
      return h[id]!.outputs['2']!.wants_previews[0];
    };
    expect(await wants(flag('nobody-listens', 0.11))).toBe(false);
    const ws = await WsRecorder.open(srv.url, 'listens');
    try {
      expect(await wants(flag('listens', 0.12))).toBe(true);
    } finally {
      ws.close();
    }
  });

  it('greets a WebSocket client with status and its sid', async () => {
    const ws = await WsRecorder.open(srv.url, 'greet-1');
    const m = await ws.waitFor((x) => x.type === 'status');
    expect(m.data).toEqual({ status: { exec_info: { queue_remaining: expect.any(Number) } }, sid: 'greet-1' });
    ws.close();
  });

  it('runs a prompt: events in order, preview frames, history written before executing null, image from /view', async () => {
    const ws = await WsRecorder.open(srv.url, 'c1');
    const r = await postJson(`${srv.url}/prompt`, { prompt: slowWorkflow({ steps: 3 }), client_id: 'c1' });
    expect(r.status).toBe(200);
    const ack = r.json as { prompt_id: string; number: number; node_errors: object };
    expect(ack).toEqual({ prompt_id: expect.any(String), number: expect.any(Number), node_errors: {} });
    await ws.done(ack.prompt_id);
    const mine = ws.order.filter((t) => t !== 'status');
    expect(mine[0]).toBe('execution_start');
    expect(mine).toContain('execution_cached');
    const firstProgress = mine.indexOf('progress');
    expect(mine.indexOf('executing')).toBeLessThan(firstProgress);
    expect(mine[firstProgress + 1]).toBe('binary');
    expect(ws.messages.filter((m) => m.type === 'progress').map((m) => m.data.value)).toEqual([1, 2, 3]);
    expect(mine.indexOf('executed')).toBeGreaterThan(firstProgress);
    expect(mine.slice(-2)).toEqual(['execution_success', 'executing']);

    const frame = ws.binary[0]!;
    expect(frame.readUInt32BE(0)).toBe(1);
    expect(frame.readUInt32BE(4)).toBe(1);
    expect((await sharp(frame.subarray(8)).metadata()).format).toBe('jpeg');

    // The history must already be there when `executing {node: null}` arrives.
    const hist = await getJson<Record<string, { outputs: Record<string, { images: { filename: string; subfolder: string; type: string }[] }>; status: { status_str: string; completed: boolean; messages: [string, unknown][] }; prompt: unknown[] }>>(
      `${srv.url}/history/${ack.prompt_id}`,
    );
    const entry = hist[ack.prompt_id]!;
    expect(entry.status.status_str).toBe('success');
    expect(entry.status.completed).toBe(true);
    expect(entry.prompt[1]).toBe(ack.prompt_id);
    expect(entry.prompt).toHaveLength(5);
    const img = entry.outputs['2']!.images[0]!;
    const executed = ws.messages.find((m) => m.type === 'executed')!;
    expect(executed.data).toMatchObject({ node: '2', display_node: '2', prompt_id: ack.prompt_id, output: { images: [img] } });

    const view = await fetch(`${srv.url}/view?filename=${encodeURIComponent(img.filename)}&subfolder=${img.subfolder}&type=${img.type}`);
    expect(view.status).toBe(200);
    expect(view.headers.get('content-type')).toBe('image/png');
    expect(view.headers.get('x-content-type-options')).toBe('nosniff');
    const meta = await sharp(Buffer.from(await view.arrayBuffer())).metadata();
    expect([meta.width, meta.height]).toEqual([8, 8]);
    const preview = await fetch(`${srv.url}/api/view?filename=${encodeURIComponent(img.filename)}&preview=jpeg;50&channel=rgb`);
    expect(preview.headers.get('content-type')).toBe('image/jpeg');
    expect((await sharp(Buffer.from(await preview.arrayBuffer())).metadata()).format).toBe('jpeg');
    const job = await getJson(`${srv.url}/api/jobs/${ack.prompt_id}`);
    expect(job.status).toBe('success');
    ws.close();
  });

  it('sends type 4 preview frames with metadata to clients that ask for them', async () => {
    const ws = await WsRecorder.open(srv.url, 'meta-1');
    ws.ws.send(JSON.stringify({ type: 'feature_flags', data: { supports_preview_metadata: true } }));
    await ws.waitFor((m) => m.type === 'feature_flags');
    const r = await postJson(`${srv.url}/prompt`, { prompt: slowWorkflow({ steps: 2 }), client_id: 'meta-1' });
    const id = (r.json as { prompt_id: string }).prompt_id;
    await ws.done(id);
    const frame = ws.binary[0]!;
    expect(frame.readUInt32BE(0)).toBe(4);
    const len = frame.readUInt32BE(4);
    const meta = JSON.parse(frame.subarray(8, 8 + len).toString('utf8')) as Record<string, unknown>;
    expect(meta).toMatchObject({ node_id: '1', prompt_id: id, image_type: 'image/jpeg' });
    expect((await sharp(frame.subarray(8 + len)).metadata()).format).toBe('jpeg');
    ws.close();
  });

  it('routes per-prompt messages only to the prompt client', async () => {
    const a = await WsRecorder.open(srv.url, 'route-a');
    const b = await WsRecorder.open(srv.url, 'route-b');
    const r = await postJson(`${srv.url}/api/prompt`, { prompt: slowWorkflow({ steps: 1 }), client_id: 'route-a' });
    const id = (r.json as { prompt_id: string }).prompt_id;
    await a.done(id);
    expect(b.messages.some((m) => m.data.prompt_id === id)).toBe(false);
    expect(b.messages.some((m) => m.type === 'status')).toBe(true);
    a.close();
    b.close();
  });

  it('answers validation errors with ComfyUI 400 shape', async () => {
    const wf = slowWorkflow();
    (wf['1'] as { inputs: Record<string, unknown> }).inputs.steps = 0;
    const r = await postJson(`${srv.url}/prompt`, { prompt: wf });
    expect(r.status).toBe(400);
    const body = r.json as { error: { type: string; message: string; details: string; extra_info: object }; node_errors: Record<string, { errors: { type: string; extra_info: { input_name: string } }[]; class_type: string; dependent_outputs: string[] }> };
    expect(body.error.type).toBe('prompt_outputs_failed_validation');
    expect(body.node_errors['1']!.class_type).toBe('SlowImage');
    expect(body.node_errors['1']!.errors[0]).toMatchObject({ type: 'value_smaller_than_min', extra_info: { input_name: 'steps' } });
    const none = await postJson(`${srv.url}/prompt`, { client_id: 'x' });
    expect(none.status).toBe(400);
    expect(none.json).toMatchObject({ error: { type: 'no_prompt' }, node_errors: {} });
  });

  it('records a failing node as an error in history and in /api/jobs', async () => {
    const ws = await WsRecorder.open(srv.url, 'fail-1');
    const prompt = { ...slowWorkflow({ steps: 1 }), '2': { class_type: 'FailingNode', inputs: { images: ['1', 0], message: 'kaput' } } };
    const r = await postJson(`${srv.url}/prompt`, { prompt, client_id: 'fail-1' });
    const id = (r.json as { prompt_id: string }).prompt_id;
    await ws.done(id);
    const err = ws.messages.find((m) => m.type === 'execution_error')!;
    expect(err.data).toMatchObject({ prompt_id: id, node_id: '2', node_type: 'FailingNode', exception_message: 'kaput', exception_type: 'StubFailure' });
    const job = await getJson(`${srv.url}/api/jobs/${id}`);
    expect(job.status).toBe('error');
    const hist = await getJson<Record<string, { status: { status_str: string } }>>(`${srv.url}/history/${id}`);
    expect(hist[id]!.status.status_str).toBe('error');
    ws.close();
  });

  it('orders front prompts first, lists the queue, deletes pending items and interrupts the running one', async () => {
    const blocker = await postJson(`${srv.url}/prompt`, { prompt: slowWorkflow({ steps: 50, delayMs: 20 }) });
    const blockerId = (blocker.json as { prompt_id: string }).prompt_id;
    const back = (await postJson(`${srv.url}/prompt`, { prompt: slowWorkflow({ steps: 1 }) })).json as { prompt_id: string; number: number };
    const front = (await postJson(`${srv.url}/prompt`, { prompt: slowWorkflow({ steps: 1 }), front: true })).json as { prompt_id: string; number: number };
    const gone = (await postJson(`${srv.url}/prompt`, { prompt: slowWorkflow({ steps: 1 }) })).json as { prompt_id: string };
    expect(front.number).toBeLessThan(0);
    const q = await getJson<{ queue_running: unknown[][]; queue_pending: unknown[][] }>(`${srv.url}/queue`);
    expect(q.queue_pending.map((i) => i[1])).toEqual([front.prompt_id, back.prompt_id, gone.prompt_id]);
    expect(q.queue_pending[0]).toHaveLength(5);
    expect((await getJson<{ exec_info: { queue_remaining: number } }>(`${srv.url}/prompt`)).exec_info.queue_remaining).toBe(4);
    expect((await postJson(`${srv.url}/queue`, { delete: [gone.prompt_id] })).status).toBe(200);
    expect((await fetch(`${srv.url}/api/jobs/${gone.prompt_id}`)).status).toBe(404);
    await postJson(`${srv.url}/interrupt`, { prompt_id: blockerId });
    expect((await waitJob(srv.url, blockerId)).status).toBe('interrupted');
    const f = await waitJob(srv.url, front.prompt_id);
    const b = await waitJob(srv.url, back.prompt_id);
    expect([f.status, b.status]).toEqual(['success', 'success']);
    const hist = Object.keys(await getJson(`${srv.url}/history`));
    expect(hist.indexOf(front.prompt_id)).toBeLessThan(hist.indexOf(back.prompt_id));
    const lastTwo = Object.keys(await getJson(`${srv.url}/history?max_items=2`));
    expect(lastTwo).toEqual([front.prompt_id, back.prompt_id]);
    expect(Object.keys(await getJson(`${srv.url}/history?max_items=1&offset=0`))).toEqual([hist[0]]);
    await postJson(`${srv.url}/history`, { delete: [back.prompt_id] });
    expect(await getJson(`${srv.url}/history/${back.prompt_id}`)).toEqual({});
  });

  it('keeps seeds above 2^53 exact through queue and history', async () => {
    const big = '18446744073709551615';
    const body = `{"prompt": {"1": {"class_type": "SlowImage", "inputs": {"steps": 1, "delay_ms": 0, "value": 0.25, "size": 4, "seed": ${big}}},
      "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "big"}}}, "prompt_id": "big-seed"}`;
    const r = await postJson(`${srv.url}/prompt`, body);
    expect(r.status).toBe(200);
    await waitJob(srv.url, 'big-seed');
    const h = await fetch(`${srv.url}/history/big-seed`).then((x) => x.text());
    expect(h).toContain(`"seed":${big}`);
    const tooBig = await postJson(`${srv.url}/prompt`, body.replace(big, '18446744073709551616').replace('big-seed', 'big-seed-2'));
    expect(tooBig.status).toBe(400);
    expect(tooBig.json).toMatchObject({ error: { type: 'prompt_outputs_failed_validation' }, node_errors: { '1': { errors: [{ type: 'value_bigger_than_max' }] } } });
  });

  it('acknowledges a resubmitted prompt_id once (idempotent retry) without queueing it twice', async () => {
    const prompt = slowWorkflow({ steps: 1 });
    const a = await postJson(`${srv.url}/prompt`, { prompt, prompt_id: 'retry-1' });
    const b = await postJson(`${srv.url}/prompt`, { prompt, prompt_id: 'retry-1' });
    expect(a.status).toBe(200);
    expect(b.json).toEqual(a.json);
    await waitJob(srv.url, 'retry-1');
    const hist = await getJson(`${srv.url}/history`);
    expect(Object.keys(hist).filter((k) => k === 'retry-1')).toHaveLength(1);
  });

  it('serves object_info, features, system_stats, models and embeddings at / and /api/', async () => {
    const all = await getJson<Record<string, { input: object; output: string[] }>>(`${srv.url}/object_info`);
    expect(Object.keys(all)).toEqual(expect.arrayContaining(['SaveImage', 'LoadImage', 'SlowImage']));
    expect(await getJson(`${srv.url}/api/object_info/SaveImage`)).toEqual({ SaveImage: all.SaveImage });
    expect(await getJson(`${srv.url}/object_info/NoSuchNode`)).toEqual({});
    expect(await getJson(`${srv.url}/api/features`)).toEqual({ supports_preview_metadata: true, max_upload_size: 100 * 1024 * 1024 });
    const stats = await getJson<{ system: { os: string; ram_total: number }; devices: unknown[] }>(`${srv.url}/system_stats`);
    expect(stats.system.ram_total).toBeGreaterThan(0);
    expect(stats.devices.length).toBe(1);
    expect(Array.isArray(await getJson(`${srv.url}/models`))).toBe(true);
    expect(await getJson(`${srv.url}/api/embeddings`)).toEqual([]);
    expect((await fetch(`${srv.url}/models/nonexistent`)).status).toBe(404);
    expect((await postJson(`${srv.url}/free`, { unload_models: true })).status).toBe(200);
  });

  it('uploads an image and a mask, then LoadImage sees it', async () => {
    const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: { r: 10, g: 20, b: 30 } } }).png().toBuffer();
    const form = new FormData();
    form.append('image', new Blob([png], { type: 'image/png' }), 'up.png');
    form.append('subfolder', 'sub');
    const r = await fetch(`${srv.url}/upload/image`, { method: 'POST', body: form });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ name: 'up.png', subfolder: 'sub', type: 'input' });
    const again = new FormData();
    again.append('image', new Blob([Buffer.concat([png, Buffer.from([0])])], { type: 'image/png' }), 'up.png');
    again.append('subfolder', 'sub');
    expect(await (await fetch(`${srv.url}/upload/image`, { method: 'POST', body: again })).json()).toMatchObject({ name: 'up (1).png' });
    const info = await getJson<{ LoadImage: { input: { required: { image: [string[]] } } } }>(`${srv.url}/object_info/LoadImage`);
    expect(info.LoadImage.input.required.image[0]).toContain('sub/up.png');

    const mask = await sharp({ create: { width: 4, height: 4, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0.5 } } }).png().toBuffer();
    const mf = new FormData();
    mf.append('image', new Blob([mask], { type: 'image/png' }), 'mask.png');
    mf.append('original_ref', JSON.stringify({ filename: 'up.png', subfolder: 'sub', type: 'input' }));
    const mr = await fetch(`${srv.url}/upload/mask`, { method: 'POST', body: mf });
    expect(mr.status).toBe(200);
    const view = await fetch(`${srv.url}/view?filename=mask.png&type=input&channel=a`);
    const raw = await sharp(Buffer.from(await view.arrayBuffer())).ensureAlpha().raw().toBuffer();
    expect(raw[3]).toBeGreaterThan(100);
    expect(raw[3]).toBeLessThan(160);
  });
});
