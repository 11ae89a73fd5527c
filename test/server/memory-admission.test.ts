import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { startServerProcess, postJson, getJson, waitJob, REPO } from './helpers.js';

function txt2img(width: number, height: number, batch: number, steps = 4): Record<string, unknown> {
  return {
    '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'toyworld-shapes' } },
    '6': { class_type: 'CLIPTextEncode', inputs: { text: 'a red circle', clip: ['4', 1] } },
    '5': { class_type: 'EmptyLatentImage', inputs: { width, height, batch_size: batch } },
    '3': { class_type: 'KSampler', inputs: { model: ['4', 0], positive: ['6', 0], negative: ['6', 0], latent_image: ['5', 0], seed: 42, steps, cfg: 4, sampler_name: 'euler', scheduler: 'normal', denoise: 1 } },
    '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
    '9': { class_type: 'SaveImage', inputs: { images: ['8', 0], filename_prefix: 'mem' } },
  };
}

interface Refusal {
  error: { type: string; message: string; extra_info: { estimate_bytes: number; limit_bytes: number } };
  node_errors: Record<string, { class_type: string; errors: { type: string }[] }>;
}

describe('memory admission through the server (#22 item 4)', () => {
  it('refuses 16384x16384x1, 8192x8192x16 and 512x512x4096 with a 400 while a job runs and status routes answer', async () => {
    const srv = await startServerProcess({ toyworld: true, args: ['--models-dir', path.join(REPO, 'models')] });
    try {
      const running = await postJson(`${srv.url}/prompt`, { prompt: txt2img(64, 64, 1, 30), prompt_id: 'small' });
      expect(running.status, running.text).toBe(200);
      for (const [w, h, b] of [
        [16384, 16384, 1],
        [8192, 8192, 16],
        [512, 512, 4096],
      ] as const) {
        const r = await postJson(`${srv.url}/prompt`, { prompt: txt2img(w, h, b) });
        expect(r.status, r.text).toBe(400);
        const body = r.json as Refusal;
        expect(body.error.type).toBe('memory_budget_exceeded');
        expect(body.error.message).toMatch(/^node 8 \(VAEDecode\), input 'samples' \[.*\]: the run needs about .* over the memory limit of /);
        expect(body.error.extra_info.estimate_bytes).toBeGreaterThan(body.error.extra_info.limit_bytes);
        expect(body.node_errors['8']).toMatchObject({ class_type: 'VAEDecode', errors: [{ type: 'memory_budget_exceeded' }] });
        expect(await getJson(`${srv.url}/queue`)).toHaveProperty('queue_running');
        expect(await getJson(`${srv.url}/system_stats`)).toHaveProperty('system');
      }
      expect(await waitJob(srv.url, 'small', 60_000)).toMatchObject({ status: 'success' });
      expect(srv.proc.exitCode).toBeNull();
    } finally {
      await srv.stop();
    }
  });

  it('ends a job whose allocation fails anyway (past the estimate) as a job error; the server keeps answering', async () => {
    const srv = await startServerProcess();
    try {
      const prompt = { '1': { class_type: 'SlowImage', inputs: { steps: 1, delay_ms: 0, value: 0.5, size: 8, seed: 1 } }, '2': { class_type: 'AllocNode', inputs: { images: ['1', 0], gib: 2 ** 30 } } };
      expect((await postJson(`${srv.url}/prompt`, { prompt, prompt_id: 'huge' })).status).toBe(200);
      expect(await waitJob(srv.url, 'huge')).toMatchObject({ status: 'error' });
      const hist = await getJson<Record<string, { status: { messages: [string, Record<string, unknown>][] } }>>(`${srv.url}/history/huge`);
      const err = hist.huge!.status.messages.find((m) => m[0] === 'execution_error')![1];
      expect(err).toMatchObject({ exception_type: 'RangeError', node_id: '2' });
      expect(await getJson(`${srv.url}/queue`)).toHaveProperty('queue_running');
      expect(srv.proc.exitCode).toBeNull();
    } finally {
      await srv.stop();
    }
  });

  it('with --concurrency 2, starts a job beside a running one only when both fit the limit', async () => {
    // A 256x256 SlowImage holds 768 KiB; a limit of 1.2 MiB fits one such job, not two.
    const slow = (id: string) => ({ prompt: { '1': { class_type: 'SlowImage', inputs: { steps: 30, delay_ms: 25, value: Math.random(), size: 256, seed: 1 } }, '2': { class_type: 'PreviewImage', inputs: { images: ['1', 0] } } }, prompt_id: id });
    for (const [limitGiB, together] of [
      [1.2 / 1024, false],
      [1, true],
    ] as const) {
      const srv = await startServerProcess({ args: ['--concurrency', '2', '--memory-limit', String(limitGiB)] });
      try {
        expect((await postJson(`${srv.url}/prompt`, slow('a'))).status).toBe(200);
        expect((await postJson(`${srv.url}/prompt`, slow('b'))).status).toBe(200);
        let both = false;
        for (;;) {
          const q = await getJson<{ queue_running: unknown[]; queue_pending: unknown[] }>(`${srv.url}/queue`);
          if (q.queue_running.length === 2) both = true;
          if (q.queue_running.length + q.queue_pending.length === 0) break;
          await new Promise((r) => setTimeout(r, 20));
        }
        expect(both, `limit ${limitGiB} GiB`).toBe(together);
        for (const id of ['a', 'b']) expect(await waitJob(srv.url, id)).toMatchObject({ status: 'success' });
      } finally {
        await srv.stop();
      }
    }
  });

  it('takes --memory-limit in GiB', async () => {
    const srv = await startServerProcess({ toyworld: true, args: ['--models-dir', path.join(REPO, 'models'), '--memory-limit', '0.01'] });
    try {
      const r = await postJson(`${srv.url}/prompt`, { prompt: txt2img(512, 512, 1) });
      expect(r.status, r.text).toBe(400);
      expect((r.json as Refusal).error.message).toContain('over the memory limit of 10.2 MiB');
    } finally {
      await srv.stop();
    }
  });
});
