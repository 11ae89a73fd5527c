import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess, postJson, getJson, waitJob, slowWorkflow, type ServerProcess } from './helpers.js';

let srv: ServerProcess;

beforeAll(async () => {
  srv = await startServerProcess();
});
afterAll(async () => {
  await srv?.stop();
});

describe('POST /prompt with odd node ids', () => {
  it("answers '__proto__' with a 400 validation error in ComfyUI's shape, not a 500", async () => {
    const bodies = [
      '{"prompt": {"__proto__": {"class_type": "SlowImage", "inputs": {"steps": "x"}}, "2": {"class_type": "SaveImage", "inputs": {"images": ["__proto__", 0], "filename_prefix": "p"}}}}',
      '{"prompt": {"1": {"class_type": "SlowImage", "inputs": {"steps": 1, "delay_ms": 0, "value": 0.5, "size": 8, "seed": 1}}, "__proto__": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "p"}}}}',
    ];
    for (const body of bodies) {
      const r = await postJson(`${srv.url}/prompt`, body);
      expect(r.status, r.text).toBe(400);
      expect(r.json).toMatchObject({ error: { type: 'invalid_prompt' }, node_errors: { ['__proto__']: { errors: [expect.anything()] } } });
    }
  });

  it('runs prompts whose ids are Object.prototype names, unicode or very long', async () => {
    for (const id of ['constructor', 'toString', 'hasOwnProperty', '🙂', 'n'.repeat(2000)]) {
      const prompt = { [id]: slowWorkflow({ steps: 1, delayMs: 0 })['1'], out: { class_type: 'SaveImage', inputs: { images: [id, 0], filename_prefix: 'odd' } } };
      const r = await postJson(`${srv.url}/prompt`, { prompt });
      expect(r.status, `${id.slice(0, 20)}: ${r.text}`).toBe(200);
      const job = await waitJob(srv.url, (r.json as { prompt_id: string }).prompt_id);
      expect(job.status, id.slice(0, 20)).toBe('success');
    }
    // A link to an id that only Object.prototype has is a missing node, not a crash.
    const dangling = await postJson(`${srv.url}/prompt`, { prompt: { out: { class_type: 'SaveImage', inputs: { images: ['constructor', 0], filename_prefix: 'x' } } } });
    expect(dangling.status).toBe(400);
    expect(dangling.json).toMatchObject({ node_errors: { out: { errors: [{ type: 'bad_linked_input' }] } } });
  });
});

describe('GET /history paging (ComfyUI max_items / offset)', () => {
  it('gives the newest max_items, pages with offset from the oldest, and refuses a negative max_items', async () => {
    await postJson(`${srv.url}/history`, { clear: true });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await postJson(`${srv.url}/prompt`, { prompt: slowWorkflow({ steps: 1, delayMs: 0, prefix: `h${i}` }), prompt_id: `hist-${i}` });
      expect(r.status, r.text).toBe(200);
      await waitJob(srv.url, `hist-${i}`);
      ids.push(`hist-${i}`);
    }
    const keys = async (q: string) => Object.keys(await getJson(`${srv.url}/history${q}`));
    expect(await keys('')).toEqual(ids);
    expect(await keys('?max_items=2')).toEqual(['hist-3', 'hist-4']);
    expect(await keys('?max_items=0')).toEqual([]);
    expect(await keys('?max_items=99')).toEqual(ids);
    expect(await keys('?max_items=2&offset=0')).toEqual(['hist-0', 'hist-1']);
    expect(await keys('?max_items=2&offset=2')).toEqual(['hist-2', 'hist-3']);
    expect(await keys('?max_items=2&offset=4')).toEqual(['hist-4']);
    expect(await keys('?offset=3')).toEqual(['hist-3', 'hist-4']);
    expect(await keys('?offset=99')).toEqual([]);
    expect(await keys('?max_items=2&offset=-1')).toEqual(['hist-3', 'hist-4']);
    expect(await keys('?max_items=1')).toEqual(['hist-4']);
    expect(Object.keys(await getJson(`${srv.url}/api/history?max_items=1`))).toEqual(['hist-4']);
    for (const bad of ['max_items=-1', 'max_items=abc', 'offset=1.5', 'max_items=99999999999999']) {
      const res = await fetch(`${srv.url}/history?${bad}`);
      expect(res.status, bad).toBe(400);
    }
  });
});

describe('GET /queue and /history from cached JSON text', () => {
  it('shows a prompt re-run under the same id after its history was deleted, not the cached old entry', async () => {
    const first = slowWorkflow({ steps: 1, delayMs: 0, value: 0.25, prefix: 'first' });
    expect((await postJson(`${srv.url}/prompt`, { prompt: first, prompt_id: 'cache-1' })).status).toBe(200);
    await waitJob(srv.url, 'cache-1');
    const h1 = await getJson<Record<string, { prompt: [number, string, Record<string, { inputs: { filename_prefix?: string } }>] }>>(`${srv.url}/history?max_items=1000`);
    expect(h1['cache-1']!.prompt[2]['2']!.inputs.filename_prefix).toBe('first');
    expect((await postJson(`${srv.url}/history`, { delete: ['cache-1'] })).status).toBe(200);
    expect(await getJson(`${srv.url}/history/cache-1`)).toEqual({});
    // A pending prompt shows in /queue with its own prompt, then in history under the same id.
    const second = slowWorkflow({ steps: 20, delayMs: 20, value: 0.75, prefix: 'second' });
    expect((await postJson(`${srv.url}/prompt`, { prompt: second, prompt_id: 'cache-1' })).status).toBe(200);
    const q = await getJson<{ queue_running: [number, string, Record<string, { inputs: { filename_prefix?: string } }>][]; queue_pending: unknown[] }>(`${srv.url}/queue`);
    const item = [...q.queue_running, ...(q.queue_pending as typeof q.queue_running)].find((i) => i[1] === 'cache-1');
    expect(item?.[2]['2']!.inputs.filename_prefix).toBe('second');
    await waitJob(srv.url, 'cache-1');
    const h2 = await getJson<typeof h1>(`${srv.url}/history?max_items=1000`);
    expect(h2['cache-1']!.prompt[2]['2']!.inputs.filename_prefix).toBe('second');
  });
});
