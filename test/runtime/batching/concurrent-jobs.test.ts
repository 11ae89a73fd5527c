/**
 * Concurrent toyworld jobs through one engine, one step scheduler and one U-Net batching point give the
 * images they give alone (the toyworld U-Net is not bitwise batch-invariant: within 1e-6, see
 * docs/scheduling.md), and interrupting one job leaves the others' outputs intact.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Services, defineNode, type ApiWorkflow, type Engine, type EngineEvent } from '../../../engine/index.js';
import { createHost, type Host } from '../../../host/host.js';
import { IMAGE } from '../../../sockets/index.js';
import { MODEL_POOL } from '../../../runtime/services.js';
import { Tensor } from '../../../runtime/tensor.js';
import { JOB_LANE, StepScheduler } from '../../../runtime/batching/index.js';
import { checkpoint, ensureToyworld, MODELS_DIR } from '../../nodes/diffusion/helpers.js';

const captured = new Map<string, Tensor>();

/** Test output node: keeps the float image of its prompt (no PNG rounding hides small differences). */
const KeepImage = defineNode({
  type: 'TestKeepImage',
  category: 'test',
  version: '1.0.0',
  inputs: { images: IMAGE },
  outputs: {},
  outputNode: true,
  async run(ctx, i) {
    captured.set(ctx.promptId, i.images);
    return {};
  },
});

interface JobSpec {
  id: string;
  text: string;
  seed: number;
  sampler: string;
  steps: number;
  cfg: number;
}

const JOBS: JobSpec[] = [
  { id: 'red', text: 'a red circle', seed: 1, sampler: 'euler', steps: 10, cfg: 7 },
  { id: 'blue', text: 'a blue square', seed: 22, sampler: 'dpmpp_2m', steps: 12, cfg: 5 },
  { id: 'green', text: 'a green triangle', seed: 333, sampler: 'heun', steps: 6, cfg: 7 },
  { id: 'yellow', text: 'a yellow ring', seed: 4444, sampler: 'euler_ancestral', steps: 8, cfg: 1 },
];

function workflow(j: JobSpec): ApiWorkflow {
  return {
    '1': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'toyworld-shapes' } },
    '2': { class_type: 'EmptyLatentImage', inputs: { width: 64, height: 64, batch_size: 1 } },
    '3': { class_type: 'CLIPTextEncode', inputs: { text: j.text, clip: ['1', 1] } },
    '4': { class_type: 'CLIPTextEncode', inputs: { text: '', clip: ['1', 1] } },
    '5': {
      class_type: 'KSampler',
      inputs: { seed: j.seed, steps: j.steps, cfg: j.cfg, sampler_name: j.sampler, scheduler: 'karras', denoise: 1, model: ['1', 0], positive: ['3', 0], negative: ['4', 0], latent_image: ['2', 0] },
    },
    '6': { class_type: 'VAEDecode', inputs: { samples: ['5', 0], vae: ['1', 2] } },
    '7': { class_type: 'TestKeepImage', inputs: { images: ['6', 0] } },
  };
}

function maxDiff(a: Tensor, b: Tensor): number {
  expect(a.shape).toEqual(b.shape);
  let m = 0;
  for (let i = 0; i < a.size; i++) m = Math.max(m, Math.abs(a.data[i] - b.data[i]));
  return m;
}

async function runJob(engine: Engine, sched: StepScheduler, j: JobSpec, signal?: AbortSignal, onEvent?: (e: EngineEvent) => void) {
  const lane = sched.lane(j.id);
  try {
    return await engine.run(workflow(j), { promptId: j.id, signal, onEvent, job: new Services().set(JOB_LANE, lane) });
  } finally {
    lane.close();
  }
}

describe('concurrent toyworld jobs', () => {
  let base: string;
  let host: Host;
  const alone = new Map<string, Tensor>();

  beforeAll(async () => {
    await ensureToyworld();
    base = await mkdtemp(path.join(tmpdir(), 'lf-batching-'));
    host = await createHost({ baseDir: base, modelsDir: MODELS_DIR, extraNodes: [KeepImage] });
    const sched = new StepScheduler();
    for (const j of JOBS) {
      host.engine.cache.clear();
      expect((await runJob(host.engine, sched, j)).status).toBe('success');
      alone.set(j.id, captured.get(j.id)!);
    }
  }, 60_000);

  afterAll(async () => {
    await host?.close();
    await rm(base, { recursive: true, force: true });
  });

  it('produce the images they produce alone, with their U-Net steps merged into shared calls', async () => {
    captured.clear();
    host.engine.cache.clear();
    const unet = checkpoint(host.services.get(MODEL_POOL)).model.unet;
    const before = unet.stats();
    const sched = new StepScheduler({ maxBatch: 8 });
    const progress = new Map<string, number[]>();
    const results = await Promise.all(
      JOBS.map((j) => runJob(host.engine, sched, j, undefined, (e) => {
        if (e.type === 'progress') progress.set(j.id, [...(progress.get(j.id) ?? []), e.data.value]);
      })),
    );
    expect(results.map((r) => r.status)).toEqual(['success', 'success', 'success', 'success']);
    for (const j of JOBS) {
      expect(maxDiff(captured.get(j.id)!, alone.get(j.id)!)).toBeLessThanOrEqual(1e-6);
      expect(progress.get(j.id)).toEqual(Array.from({ length: j.steps }, (_, i) => i + 1));
    }
    const after = unet.stats();
    expect(after.merged - before.merged).toBeGreaterThan(0);
    // heun evaluates twice per step except the last: 10 + 12 + 11 + 8 evaluations, fewer calls.
    expect(after.calls - before.calls).toBeLessThan(41);
    expect(sched.running).toBe(0);
  }, 60_000);

  it('interrupting one job leaves the outputs of the others intact', async () => {
    captured.clear();
    host.engine.cache.clear();
    const sched = new StepScheduler();
    const stop = new AbortController();
    const results = await Promise.all(
      JOBS.map((j) => runJob(host.engine, sched, j, j.id === 'blue' ? stop.signal : undefined, (e) => {
        if (j.id === 'blue' && e.type === 'progress' && e.data.value === 3) stop.abort();
      })),
    );
    expect(results.map((r) => r.status)).toEqual(['success', 'interrupted', 'success', 'success']);
    expect(captured.has('blue')).toBe(false);
    for (const j of JOBS.filter((x) => x.id !== 'blue')) expect(maxDiff(captured.get(j.id)!, alone.get(j.id)!)).toBeLessThanOrEqual(1e-6);
  }, 60_000);
});
