/**
 * `serve --concurrency 3`: jobs run at once, each client's WebSocket gets only its prompts' events
 * (with progress and previews), POST /interrupt {prompt_id} stops that job alone, and a front prompt
 * starts at once when every slot is busy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess, WsRecorder, slowWorkflow, postJson, getJson, waitJob, type ServerProcess } from './helpers.js';

let srv: ServerProcess;

beforeAll(async () => {
  srv = await startServerProcess({ args: ['--concurrency', '3'] });
});
afterAll(async () => {
  await srv?.stop();
});

async function submit(prompt: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<string> {
  const r = await postJson(`${srv.url}/prompt`, { prompt, ...extra });
  expect(r.status).toBe(200);
  return (r.json as { prompt_id: string }).prompt_id;
}

async function runningIds(): Promise<string[]> {
  const q = await getJson<{ queue_running: unknown[][] }>(`${srv.url}/queue`);
  return q.queue_running.map((i) => String(i[1]));
}

async function until(cond: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('serve --concurrency', () => {
  it('runs jobs at once, routes each client its own events and interrupts one job only', async () => {
    const c1 = await WsRecorder.open(srv.url, 'conc-1');
    const c2 = await WsRecorder.open(srv.url, 'conc-2');
    const a = await submit(slowWorkflow({ steps: 25, delayMs: 20, prefix: 'a' }), { client_id: 'conc-1' });
    const b = await submit(slowWorkflow({ steps: 200, delayMs: 20, prefix: 'b' }), { client_id: 'conc-2' });
    const c = await submit(slowWorkflow({ steps: 25, delayMs: 20, prefix: 'c' }), { client_id: 'conc-1' });
    await until(async () => (await runningIds()).length === 3);
    expect((await runningIds()).sort()).toEqual([a, b, c].sort());

    await c2.waitFor((m) => m.type === 'progress' && m.data.prompt_id === b);
    expect((await postJson(`${srv.url}/interrupt`, { prompt_id: b })).status).toBe(200);
    expect((await waitJob(srv.url, b)).status).toBe('interrupted');
    expect((await waitJob(srv.url, a)).status).toBe('success');
    expect((await waitJob(srv.url, c)).status).toBe('success');
    await c1.done(a);
    await c1.done(c);

    const ids = (rec: WsRecorder) => new Set(rec.messages.filter((m) => m.type !== 'status').map((m) => m.data.prompt_id));
    expect(ids(c1)).toEqual(new Set([a, c]));
    expect(ids(c2)).toEqual(new Set([b]));
    for (const id of [a, c]) {
      const steps = c1.messages.filter((m) => m.type === 'progress' && m.data.prompt_id === id).map((m) => m.data.value);
      expect(steps).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    }
    expect(c1.binary.length).toBeGreaterThanOrEqual(50);
    const files = await Promise.all([a, c].map(async (id) => JSON.stringify((await getJson<Record<string, { outputs: unknown }>>(`${srv.url}/history/${id}`))[id]!.outputs)));
    expect(files[0]).toMatch(/"a_/);
    expect(files[1]).toMatch(/"c_/);
    c1.close();
    c2.close();
  });

  it('starts a front prompt at once when every slot is busy', async () => {
    const blockers = [];
    for (let i = 0; i < 4; i++) blockers.push(await submit(slowWorkflow({ steps: 100, delayMs: 20 })));
    await until(async () => (await runningIds()).length === 3);
    const front = await submit(slowWorkflow({ steps: 2, delayMs: 5 }), { front: true });
    expect((await waitJob(srv.url, front)).status).toBe('success');
    // The fourth blocker is still waiting for a slot: the front prompt did not wait behind it.
    const q = await getJson<{ queue_pending: unknown[][] }>(`${srv.url}/queue`);
    expect(q.queue_pending.map((i) => String(i[1]))).toContain(blockers[3]);
    await postJson(`${srv.url}/interrupt`, {});
    await postJson(`${srv.url}/queue`, { clear: true });
    for (const id of blockers.slice(0, 3)) expect((await waitJob(srv.url, id)).status).toBe('interrupted');
  });
});
