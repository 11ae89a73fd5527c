import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHost, type Host } from '../../../host/host.js';
import { Tensor } from '../../../runtime/tensor.js';
import { LatentBlend, LatentCrop, LatentFlip, LatentFromBatch, LatentRotate, RepeatLatentBatch } from '../../../nodes/diffusion/latent-batch.js';
import { EmptyLatentImage } from '../../../nodes/diffusion/latent.js';
import type { Latent } from '../../../sockets/index.js';
import { tempDir } from '../../fixtures/temp-dir.js';
import { nodeContext, runOutput } from '../../fixtures/run-node.js';

const runOut = runOutput;

const t = (shape: number[], f: (i: number) => number = (i) => i) => new Tensor('float32', Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => f(i)), shape);
const values = (x: Tensor) => Array.from(x.data);

let host: Host;
beforeAll(async () => {
  host = await createHost({ baseDir: tempDir('lf-latent-batch-') });
});
afterAll(() => host?.close());

describe('RepeatLatentBatch', () => {
  it('tiles the whole batch, a per-row noise mask with it, and shifts batch_index by its span', async () => {
    const l: Latent = { samples: t([2, 1, 1, 2]), noise_mask: t([2, 1, 1, 2], (i) => i / 10), batch_index: [3, 5] };
    const out = (await runOut(RepeatLatentBatch, { samples: l, amount: 3 }, 'LATENT'));
    expect(out.samples.shape).toEqual([6, 1, 1, 2]);
    expect(values(out.samples)).toEqual([0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3]);
    expect(out.noise_mask!.shape).toEqual([6, 1, 1, 2]);
    expect(values(out.noise_mask!)).toEqual([0, 0.1, 0.2, 0.3, 0, 0.1, 0.2, 0.3, 0, 0.1, 0.2, 0.3].map(Math.fround));
    // offset = max - min + 1 = 3
    expect(out.batch_index).toEqual([3, 5, 6, 8, 9, 11]);
  });

  it('shares a single noise mask, adds no batch_index when there was none, and amount 1 is the identity', async () => {
    const m = t([1, 1, 1, 2]);
    const out = (await runOut(RepeatLatentBatch, { samples: { samples: t([1, 2, 1, 1]), noise_mask: m }, amount: 2 }, 'LATENT'));
    expect(out.noise_mask).toBe(m);
    expect(out.batch_index).toBeUndefined();
    expect(values(out.samples)).toEqual([0, 1, 0, 1]);
    const same = (await runOut(RepeatLatentBatch, { samples: { samples: t([2, 1, 1, 1]), batch_index: [4, 4] }, amount: 1 }, 'LATENT'));
    expect(values(same.samples)).toEqual([0, 1]);
    expect(same.batch_index).toEqual([4, 4]);
  });
});

describe('LatentFromBatch', () => {
  const l: Latent = { samples: t([3, 1, 1, 2]) };
  it('takes rows and records their batch_index', async () => {
    const out = (await runOut(LatentFromBatch, { samples: l, batch_index: 1, length: 4 }, 'LATENT'));
    expect(out.samples.shape).toEqual([2, 1, 1, 2]);
    expect(values(out.samples)).toEqual([2, 3, 4, 5]);
    expect(out.batch_index).toEqual([1, 2]);
  });

  it('clamps a batch_index past the end to the last row', async () => {
    const out = (await runOut(LatentFromBatch, { samples: l, batch_index: 5, length: 1 }, 'LATENT'));
    expect(values(out.samples)).toEqual([4, 5]);
    expect(out.batch_index).toEqual([2]);
  });

  it('slices an existing batch_index and cycles a shorter per-row noise mask up to the batch', async () => {
    const mask = t([2, 1, 1, 1], (i) => 10 + i);
    const out = (await runOut(LatentFromBatch, { samples: { ...l, noise_mask: mask, batch_index: [7, 8, 9] }, batch_index: 1, length: 2 }, 'LATENT'));
    expect(out.batch_index).toEqual([8, 9]);
    // masks repeated to [10, 11, 10], then rows 1..2
    expect(values(out.noise_mask!)).toEqual([11, 10]);
    const single = t([1, 1, 1, 1]);
    expect((await runOut(LatentFromBatch, { samples: { ...l, noise_mask: single }, batch_index: 2, length: 1 }, 'LATENT')).noise_mask).toBe(single);
  });
});

describe('LatentFlip and LatentRotate', () => {
  const l: Latent = { samples: t([1, 1, 2, 3]) }; // [[0,1,2],[3,4,5]]
  it('flips rows for x-axis and columns for y-axis', async () => {
    expect(values((await runOut(LatentFlip, { samples: l, flip_method: 'x-axis: vertically' }, 'LATENT')).samples)).toEqual([3, 4, 5, 0, 1, 2]);
    expect(values((await runOut(LatentFlip, { samples: l, flip_method: 'y-axis: horizontally' }, 'LATENT')).samples)).toEqual([2, 1, 0, 5, 4, 3]);
  });

  it('rotates as torch.rot90(dims=[3, 2]): 90 degrees clockwise', async () => {
    const r = async (rotation: '90 degrees' | '180 degrees' | '270 degrees' | 'none') => (await runOut(LatentRotate, { samples: l, rotation }, 'LATENT')).samples;
    const r90 = await r('90 degrees');
    expect(r90.shape).toEqual([1, 1, 3, 2]);
    expect(values(r90)).toEqual([3, 0, 4, 1, 5, 2]);
    expect(values(await r('180 degrees'))).toEqual([5, 4, 3, 2, 1, 0]);
    const r270 = await r('270 degrees');
    expect(r270.shape).toEqual([1, 1, 3, 2]);
    expect(values(r270)).toEqual([2, 5, 1, 4, 0, 3]);
    expect(await r('none')).toBe(l.samples);
  });
});

describe('LatentCrop', () => {
  const l: Latent = { samples: t([1, 1, 10, 12]), noise_mask: t([1, 1, 80, 96]) };
  it('crops pixels // 8 cells and passes the noise mask on uncropped', async () => {
    const out = (await runOut(LatentCrop, { samples: l, width: 64, height: 64, x: 16, y: 8 }, 'LATENT'));
    expect(out.samples.shape).toEqual([1, 1, 8, 8]);
    expect(out.samples.data[0]).toBe(14);
    expect(out.samples.data[63]).toBe(8 * 12 + 9);
    expect(out.noise_mask).toBe(l.noise_mask);
  });

  it('pulls the corner back so 8 cells remain, and cuts to latents smaller than that', async () => {
    const out = (await runOut(LatentCrop, { samples: l, width: 512, height: 64, x: 80, y: 0 }, 'LATENT'));
    expect(out.samples.shape).toEqual([1, 1, 8, 8]);
    expect(out.samples.data[0]).toBe(4);
    // A 4x4 latent: the corner becomes -4, which Python slicing reads from the end: the whole latent.
    const small = (await runOut(LatentCrop, { samples: { samples: t([1, 1, 4, 4]) }, width: 64, height: 64, x: 0, y: 0 }, 'LATENT'));
    expect(values(small.samples)).toEqual(values(t([1, 1, 4, 4])));
  });
});

describe('LatentBlend', () => {
  it('mixes samples1 * f + samples2 * (1 - f)', async () => {
    const out = (await runOut(LatentBlend, { samples1: { samples: t([1, 1, 1, 2], (i) => i + 1), batch_index: [2] }, samples2: { samples: t([1, 1, 1, 2], (i) => [3, 5][i]!) }, blend_factor: 0.25 }, 'LATENT'));
    expect(values(out.samples)).toEqual([2.5, 4.25]);
    expect(out.batch_index).toEqual([2]);
  });

  it('resizes samples2 to samples1 (a constant stays constant) and broadcasts a batch of one', async () => {
    const out = (await runOut(LatentBlend, { samples1: { samples: t([2, 1, 1, 2], () => 1) }, samples2: { samples: t([1, 1, 2, 4], () => 7) }, blend_factor: 0.5 }, 'LATENT'));
    expect(out.samples.shape).toEqual([2, 1, 1, 2]);
    for (const v of out.samples.data) expect(v).toBeCloseTo(4, 5);
    expect(() => LatentBlend.run(nodeContext(), { samples1: { samples: t([1, 2, 1, 1]) }, samples2: { samples: t([1, 3, 1, 1]) }, blend_factor: 0.5 })).toThrow(/channels/);
  });
});

describe('through the engine', () => {
  it("publishes ComfyUI's inputs", () => {
    const info = host.engine.objectInfo();
    expect(info.RepeatLatentBatch).toMatchObject({ display_name: 'Repeat Latent Batch', category: 'latent/batch', output: ['LATENT'] });
    expect(info.RepeatLatentBatch!.input.required.amount![1]).toMatchObject({ default: 1, min: 1, max: 64 });
    expect(info.LatentFromBatch!.input_order.required).toEqual(['samples', 'batch_index', 'length']);
    expect(info.LatentFromBatch!.input.required.batch_index![1]).toMatchObject({ default: 0, min: 0, max: 63 });
    expect(info.LatentFromBatch!.input.required.length![1]).toMatchObject({ default: 1, min: 1, max: 64 });
    expect(info.LatentFlip!.input.required.flip_method![0]).toEqual(['x-axis: vertically', 'y-axis: horizontally']);
    expect(info.LatentRotate!.input.required.rotation![0]).toEqual(['none', '90 degrees', '180 degrees', '270 degrees']);
    expect(info.LatentCrop).toMatchObject({ display_name: 'Crop Latent', category: 'latent/transform' });
    expect(info.LatentCrop!.input_order.required).toEqual(['samples', 'width', 'height', 'x', 'y']);
    expect(info.LatentCrop!.input.required.width![1]).toMatchObject({ default: 512, min: 64, max: 16384, step: 8 });
    expect(info.LatentBlend).toMatchObject({ display_name: 'Latent Blend', category: '_for_testing' });
    expect(info.LatentBlend!.input.required.blend_factor![1]).toMatchObject({ default: 0.5, min: 0, max: 1, step: 0.01 });
  });

  it('infers the shapes run produces', async () => {
    const wf = {
      1: { class_type: 'EmptyLatentImage', inputs: { width: 96, height: 80, batch_size: 2 } },
      2: { class_type: 'RepeatLatentBatch', inputs: { samples: ['1', 0], amount: 3 } },
      3: { class_type: 'LatentFromBatch', inputs: { samples: ['2', 0], batch_index: 4, length: 5 } },
      4: { class_type: 'LatentRotate', inputs: { samples: ['3', 0], rotation: '90 degrees' } },
      5: { class_type: 'LatentCrop', inputs: { samples: ['4', 0], width: 64, height: 512, x: 8, y: 0 } },
      6: { class_type: 'LatentFlip', inputs: { samples: ['5', 0], flip_method: 'y-axis: horizontally' } },
      7: { class_type: 'LatentBlend', inputs: { samples1: ['6', 0], samples2: ['1', 0], blend_factor: 0.5 } },
    };
    const shapes = await host.engine.inferShapes(wf);
    const a = (await runOut(EmptyLatentImage, { width: 96, height: 80, batch_size: 2 }, 'LATENT'));
    const b = (await runOut(RepeatLatentBatch, { samples: a, amount: 3 }, 'LATENT'));
    const c = (await runOut(LatentFromBatch, { samples: b, batch_index: 4, length: 5 }, 'LATENT'));
    const d = (await runOut(LatentRotate, { samples: c, rotation: '90 degrees' }, 'LATENT'));
    const e = (await runOut(LatentCrop, { samples: d, width: 64, height: 512, x: 8, y: 0 }, 'LATENT'));
    const f = (await runOut(LatentFlip, { samples: e, flip_method: 'y-axis: horizontally' }, 'LATENT'));
    const g = (await runOut(LatentBlend, { samples1: f, samples2: a, blend_factor: 0.5 }, 'LATENT'));
    expect(c.samples.shape).toEqual([2, 4, 10, 12]);
    expect(e.samples.shape).toEqual([2, 4, 12, 8]);
    expect(shapes).toEqual({ 1: [a.samples.shape], 2: [b.samples.shape], 3: [c.samples.shape], 4: [d.samples.shape], 5: [e.samples.shape], 6: [f.samples.shape], 7: [g.samples.shape] });
  });
});
