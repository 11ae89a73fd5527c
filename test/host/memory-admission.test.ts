import { afterAll, describe, expect, it } from 'vitest';
import { createHost, type Host } from '../../host/host.js';
import { checkMemory, defaultMemoryLimit, formatBytes, MEMORY_LIMIT } from '../../host/memory-admission.js';
import { runJob } from '../../host/run-job.js';
import { batchJobFiles } from '../../host/job-files.js';
import { repoToyworld } from '../fixtures/toyworld.js';
import { tempDir } from '../fixtures/temp-dir.js';

/** txt2img on toyworld with the sizes (#22 item 4). */
function txt2img(width: number, height: number, batch: number): Record<string, unknown> {
  return {
    '3': { class_type: 'KSampler', inputs: { seed: 1, steps: 2, cfg: 7, sampler_name: 'euler', scheduler: 'normal', denoise: 1, model: ['4', 0], positive: ['6', 0], negative: ['6', 0], latent_image: ['5', 0] } },
    '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'toyworld-shapes' } },
    '5': { class_type: 'EmptyLatentImage', inputs: { width, height, batch_size: batch } },
    '6': { class_type: 'CLIPTextEncode', inputs: { text: 'a red circle', clip: ['4', 1] } },
    '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
    '9': { class_type: 'SaveImage', inputs: { filename_prefix: 'm', images: ['8', 0] } },
  };
}

const GiB = 1024 ** 3;
let host: Host;

afterAll(async () => {
  await host?.close();
});

describe('memory admission', () => {
  it('refuses the issue\'s reproductions by default, naming node, input, estimate and limit; admits ordinary sizes', async () => {
    host = await createHost({ baseDir: tempDir('lf-mem-'), modelsDir: await repoToyworld() });
    expect(host.services.get(MEMORY_LIMIT)).toBe(defaultMemoryLimit());
    for (const [w, h, b] of [
      [16384, 16384, 1],
      [8192, 8192, 16],
      [512, 512, 4096],
    ] as const) {
      const wf = txt2img(w, h, b);
      const v = host.engine.validate(wf);
      expect(v.ok).toBe(true);
      const refused = await checkMemory(host.engine, wf, v);
      expect(refused, `${w}x${h}x${b}`).toBeDefined();
      expect(refused!.nodeId).toBe('8');
      expect(refused!.error.type).toBe('memory_budget_exceeded');
      expect(refused!.error.message).toContain(`node 8 (VAEDecode), input 'samples' [${b}, 4, ${h / 8}, ${w / 8}]`);
      expect(refused!.error.message).toContain(`over the memory limit of ${formatBytes(defaultMemoryLimit())}`);
      expect(refused!.error.extra_info.estimate_bytes).toBeGreaterThan(defaultMemoryLimit());
      expect(refused!.nodeErrors['8']!.class_type).toBe('VAEDecode');
    }
    const ok = txt2img(512, 512, 4);
    expect(await checkMemory(host.engine, ok, host.engine.validate(ok))).toBeUndefined();
  });

  it('ends a job over the limit as an error before any node runs (runJob, for the CLI and workers)', async () => {
    const small = await createHost({ baseDir: tempDir('lf-mem2-'), modelsDir: await repoToyworld(), memoryLimitBytes: 0.05 * GiB });
    try {
      const events: string[] = [];
      const { result, invalid } = await runJob(
        { engine: small.engine, scheduler: small.scheduler },
        { id: 'big', workflow: txt2img(1024, 1024, 1), files: () => batchJobFiles(small.folders, 'big') },
        { onEvent: (e) => events.push(e.type) },
      );
      expect(result.status).toBe('error');
      expect(result.error).toMatchObject({ errorType: 'MemoryBudgetExceeded', nodeId: '8', nodeType: 'VAEDecode' });
      expect(result.error!.message).toMatch(/over the memory limit of 51\.2 MiB/);
      expect(invalid?.node_errors['8']?.errors[0]?.type).toBe('memory_budget_exceeded');
      expect(events).toEqual(['execution_start', 'execution_error']);
      expect(result.executed).toEqual([]);
    } finally {
      await small.close();
    }
  });

  it('sizes a tiled decode by its tiles: 4096x4096 fits 4 GiB through VAEDecodeTiled, not through VAEDecode', async () => {
    const h = await createHost({ baseDir: tempDir('lf-mem4-'), modelsDir: await repoToyworld(), memoryLimitBytes: 4 * GiB });
    try {
      const plain = txt2img(4096, 4096, 1);
      const tiled = { ...plain, '8': { class_type: 'VAEDecodeTiled', inputs: { samples: ['3', 0], vae: ['4', 2], tile_size: 512, overlap: 64, temporal_size: 64, temporal_overlap: 8 } } };
      expect((await checkMemory(h.engine, plain, h.engine.validate(plain)))?.nodeId).toBe('8');
      const v = h.engine.validate(tiled);
      expect(v.ok).toBe(true);
      expect(await checkMemory(h.engine, tiled, v)).toBeUndefined();
      const est = await h.engine.estimateMemory(tiled, v);
      // Output 192 MiB, three whole-frame accumulators, one 512x512 tile through the network.
      expect(est.nodes.find((n) => n.id === '8')).toMatchObject({ outputBytes: 4096 * 4096 * 12, workBytes: 512 * 512 * 2060 + 3 * 4096 * 4096 * 12 });
    } finally {
      await h.close();
    }
  });

  it('can be turned off with a limit of 0', async () => {
    const off = await createHost({ baseDir: tempDir('lf-mem3-'), modelsDir: await repoToyworld(), memoryLimitBytes: 0 });
    try {
      const wf = txt2img(16384, 16384, 1);
      expect(await checkMemory(off.engine, wf, off.engine.validate(wf))).toBeUndefined();
    } finally {
      await off.close();
    }
  });
});
