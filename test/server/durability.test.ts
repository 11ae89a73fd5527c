import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { startServerProcess, runUntilExit, tempBase, slowWorkflow, postJson, getJson, waitJob, WsRecorder } from './helpers.js';
import { promptTag } from '../../host/job-files.js';

type History = Record<string, { outputs: Record<string, { images: { filename: string }[] }>; status: { status_str: string; messages: [string, Record<string, unknown>][] } }>;

function outputFiles(baseDir: string): string[] {
  return readdirSync(path.join(baseDir, 'output')).sort();
}

describe.concurrent('kill -9 and restart: nothing accepted is lost or duplicated', () => {
  it('re-runs a job that was running (sampling) when the process was killed', async () => {
    const base = tempBase('kill-run');
    let srv = await startServerProcess({ baseDir: base });
    const ws = await WsRecorder.open(srv.url, 'k1');
    const r = await postJson(`${srv.url}/prompt`, { prompt: slowWorkflow({ steps: 40, delayMs: 25, prefix: 'run' }), client_id: 'k1', prompt_id: 'kill-running' });
    expect(r.status).toBe(200);
    await ws.waitFor((m) => m.type === 'progress' && Number(m.data.value) >= 2);
    await srv.kill9();
    srv = await startServerProcess({ baseDir: base });
    try {
      const job = await waitJob(srv.url, 'kill-running');
      expect(job).toMatchObject({ status: 'success', attempts: 2 });
      const hist = await getJson<History>(`${srv.url}/history`);
      expect(Object.keys(hist)).toEqual(['kill-running']);
      const files = outputFiles(base);
      expect(files).toEqual([hist['kill-running']!.outputs['2']!.images[0]!.filename]);
      expect(files[0]).toContain(promptTag('kill-running'));
    } finally {
      await srv.stop();
    }
  });

  it('leaves no torn or duplicate files when killed while outputs are written', async () => {
    const base = tempBase('kill-write');
    let srv = await startServerProcess({ baseDir: base });
    const prompt = slowWorkflow({ steps: 1, delayMs: 0, save: 'SlowSave' });
    (prompt['2'] as { inputs: Record<string, unknown> }).inputs = { images: ['1', 0], copies: 3, pause_ms: 400, filename_prefix: 'w' };
    expect((await postJson(`${srv.url}/prompt`, { prompt, prompt_id: 'kill-writing' })).status).toBe(200);
    const deadline = Date.now() + 10_000;
    while (outputFiles(base).length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(outputFiles(base).length).toBeGreaterThan(0);
    await srv.kill9();
    expect(outputFiles(base).length).toBeLessThan(3);
    srv = await startServerProcess({ baseDir: base });
    try {
      expect((await waitJob(srv.url, 'kill-writing')).status).toBe('success');
      const hist = await getJson<History>(`${srv.url}/history/kill-writing`);
      const names = hist['kill-writing']!.outputs['2']!.images.map((i) => i.filename).sort();
      expect(names).toHaveLength(3);
      expect(outputFiles(base)).toEqual(names);
    } finally {
      await srv.stop();
    }
  });

  it('keeps every acknowledged prompt when killed during a burst of submissions', async () => {
    const base = tempBase('kill-enqueue');
    let srv = await startServerProcess({ baseDir: base });
    const acked: string[] = [];
    const posts = Array.from({ length: 60 }, (_, i) =>
      postJson(`${srv.url}/prompt`, { prompt: slowWorkflow({ steps: 1, delayMs: 0, value: i / 100, prefix: 'burst' }), prompt_id: `burst-${i}` }).then(
        (r) => {
          if (r.status === 200) acked.push(`burst-${i}`);
        },
        () => undefined,
      ),
    );
    while (acked.length < 5) await new Promise((r) => setTimeout(r, 2));
    await srv.kill9();
    await Promise.all(posts);
    const ackedAtKill = [...acked];
    srv = await startServerProcess({ baseDir: base });
    try {
      for (const id of ackedAtKill) expect((await waitJob(srv.url, id)).status).toBe('success');
      const queue = await getJson<{ queue_pending: unknown[] }>(`${srv.url}/queue`);
      const deadline = Date.now() + 20_000;
      while ((await getJson<{ exec_info: { queue_remaining: number } }>(`${srv.url}/prompt`)).exec_info.queue_remaining > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(queue).toBeDefined();
      const hist = await getJson<History>(`${srv.url}/history`);
      const ids = Object.keys(hist);
      for (const id of ackedAtKill) expect(ids).toContain(id);
      // One success and one file per stored prompt: no duplicates from the re-run.
      expect(ids.every((id) => hist[id]!.status.status_str === 'success')).toBe(true);
      const files = outputFiles(base);
      expect(files).toHaveLength(ids.length);
      for (const id of ids) expect(files.filter((f) => f.includes(promptTag(id)))).toHaveLength(1);
    } finally {
      await srv.stop();
    }
  });

  it('ends a job that crashes the process 3 times as an error ("poison")', async () => {
    const base = tempBase('poison');
    const srv = await startServerProcess({ baseDir: base });
    const prompt = { ...slowWorkflow({ steps: 1, delayMs: 0 }), '2': { class_type: 'CrashNode', inputs: { images: ['1', 0] } } };
    await postJson(`${srv.url}/prompt`, { prompt, prompt_id: 'poison-1' }).catch(() => undefined);
    expect(await srv.exited).toBe('SIGKILL');
    expect(await runUntilExit(base)).toBe('SIGKILL');
    expect(await runUntilExit(base)).toBe('SIGKILL');
    const last = await startServerProcess({ baseDir: base });
    try {
      const job = await getJson(`${last.url}/api/jobs/poison-1`);
      expect(job).toMatchObject({ status: 'error', attempts: 3 });
      const hist = await getJson<History>(`${last.url}/history/poison-1`);
      const err = hist['poison-1']!.status.messages.find((m) => m[0] === 'execution_error')!;
      expect(err[1].exception_type).toBe('PoisonJobError');
      // The server keeps working after the poison job.
      const ok = await postJson(`${last.url}/prompt`, { prompt: slowWorkflow({ steps: 1 }), prompt_id: 'after-poison' });
      expect(ok.status).toBe(200);
      expect((await waitJob(last.url, 'after-poison')).status).toBe('success');
    } finally {
      await last.stop();
    }
  });

  it('puts a running job back without counting a crash on a clean shutdown', async () => {
    const base = tempBase('sigterm');
    let srv = await startServerProcess({ baseDir: base });
    const ws = await WsRecorder.open(srv.url, 't1');
    await postJson(`${srv.url}/prompt`, { prompt: slowWorkflow({ steps: 30, delayMs: 20 }), prompt_id: 'term-1', client_id: 't1' });
    await ws.waitFor((m) => m.type === 'progress');
    await srv.stop();
    srv = await startServerProcess({ baseDir: base });
    try {
      expect(await waitJob(srv.url, 'term-1')).toMatchObject({ status: 'success', attempts: 1 });
    } finally {
      await srv.stop();
    }
  });
});
