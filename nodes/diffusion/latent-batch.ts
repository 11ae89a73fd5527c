/**
 * Latent batch and transform nodes of ComfyUI nodes.py: RepeatLatentBatch, LatentFromBatch,
 * LatentFlip, LatentRotate, LatentCrop, LatentBlend. LATENT samples are [B,C,h,w]; `noise_mask`
 * is [Bm,1,H,W] (any leading batch) and `batch_index` the noise seed offsets of each row.
 */
import { COMBO, FLOAT, INT, NodeInputError, defineNode, type Shape } from '../../engine/index.js';
import { commonUpscale } from '../../imaging/resample.js';
import { pySlice } from '../../imaging/py-slice.js';
import { Tensor } from '../../runtime/tensor.js';
import { LATENT, type Latent } from '../../sockets/index.js';
import { MAX_RESOLUTION } from './conditioning.js';

type Dims4 = [b: number, c: number, h: number, w: number];

function dims(t: Tensor<'float32'>): Dims4 {
  if (t.shape.length !== 4) throw new NodeInputError('samples', `expected LATENT samples [B,C,H,W], got ${t.describe()}`);
  return t.shape as Dims4;
}

/** Rows [from, from+count) of a tensor's leading axis, each row taken modulo the batch (torch repeat, then slice). */
function rows(t: Tensor<'float32'>, from: number, count: number): Tensor<'float32'> {
  const n = t.shape[0]!;
  const per = n === 0 ? 0 : t.size / n;
  const out = new Float32Array(count * per);
  for (let r = 0; r < count; r++) out.set(t.data.subarray(((from + r) % n) * per, ((from + r) % n + 1) * per), r * per);
  return new Tensor('float32', out, [count, ...t.shape.slice(1)]);
}

/** RepeatLatentBatch's batch indices: each repeat shifted past the previous span (max - min + 1). */
export function repeatBatchIndex(index: readonly number[], amount: number): number[] {
  const offset = Math.max(...index) - Math.min(...index) + 1;
  const out = [...index];
  for (let i = 1; i < amount; i++) for (const x of index) out.push(x + i * offset);
  return out;
}

export function repeatShape(samples: Shape, amount: number): Shape {
  return [samples[0]! * amount, ...samples.slice(1)];
}

export const RepeatLatentBatch = defineNode({
  type: 'RepeatLatentBatch',
  displayName: 'Repeat Latent Batch',
  category: 'latent/batch',
  version: '1.0.0',
  inputs: { samples: LATENT, amount: INT({ default: 1, min: 1, max: 64 }) },
  outputs: { LATENT },
  infer: ({ amount }, { samples }) => (samples && amount !== undefined ? { LATENT: repeatShape(samples, amount) } : {}),
  run(_ctx, { samples, amount }) {
    const s = samples.samples;
    dims(s);
    const out: { -readonly [K in keyof Latent]: Latent[K] } = { ...samples, samples: rows(s, 0, s.shape[0]! * amount) };
    // ComfyUI repeats a per-row mask as it is (even when shorter than the batch); a single mask stays shared.
    const m = samples.noise_mask;
    if (m && m.shape[0]! > 1) out.noise_mask = rows(m, 0, m.shape[0]! * amount);
    if (samples.batch_index) out.batch_index = repeatBatchIndex(samples.batch_index, amount);
    return { LATENT: out };
  },
});

/** LatentFromBatch's clamped window: the start is at most the last row, the length what remains. */
export function batchWindow(batch: number, batchIndex: number, length: number): { start: number; length: number } {
  const start = Math.min(batch - 1, batchIndex);
  return { start, length: Math.min(batch - start, length) };
}

export const LatentFromBatch = defineNode({
  type: 'LatentFromBatch',
  displayName: 'Latent From Batch',
  category: 'latent/batch',
  version: '1.0.0',
  inputs: {
    samples: LATENT,
    batch_index: INT({ default: 0, min: 0, max: 63 }),
    length: INT({ default: 1, min: 1, max: 64 }),
  },
  outputs: { LATENT },
  infer: ({ batch_index, length }, { samples }) => {
    if (!samples || batch_index === undefined || length === undefined) return {};
    return { LATENT: [batchWindow(samples[0]!, batch_index, length).length, ...samples.slice(1)] };
  },
  run(_ctx, { samples, batch_index, length }) {
    const s = samples.samples;
    const [b] = dims(s);
    if (b === 0) throw new NodeInputError('samples', 'the batch is empty');
    const win = batchWindow(b, batch_index, length);
    const out: { -readonly [K in keyof Latent]: Latent[K] } = { ...samples, samples: rows(s, win.start, win.length) };
    const m = samples.noise_mask;
    // A single mask applies to every row; a shorter per-row mask is cycled up to the batch first.
    if (m && m.shape[0]! > 1) out.noise_mask = rows(m, win.start, win.length);
    const range = Array.from({ length: win.length }, (_, i) => win.start + i);
    out.batch_index = samples.batch_index ? samples.batch_index.slice(win.start, win.start + win.length) : range;
    return { LATENT: out };
  },
});

const FLIP_METHODS = ['x-axis: vertically', 'y-axis: horizontally'] as const;

/** Mirrors each plane: rows (`vertical`) or columns. */
export function flipPlanes(t: Tensor<'float32'>, vertical: boolean): Tensor<'float32'> {
  const [b, c, h, w] = dims(t);
  const out = new Float32Array(t.size);
  for (let p = 0; p < b * c; p++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const sy = vertical ? h - 1 - y : y;
        const sx = vertical ? x : w - 1 - x;
        out[(p * h + y) * w + x] = t.data[(p * h + sy) * w + sx]!;
      }
    }
  }
  return new Tensor('float32', out, t.shape);
}

export const LatentFlip = defineNode({
  type: 'LatentFlip',
  displayName: 'Flip Latent',
  category: 'latent/transform',
  version: '1.0.0',
  inputs: { samples: LATENT, flip_method: COMBO(FLIP_METHODS) },
  outputs: { LATENT },
  infer: (_v, { samples }) => ({ LATENT: samples }),
  run: (_ctx, { samples, flip_method }) => ({ LATENT: { ...samples, samples: flipPlanes(samples.samples, flip_method === 'x-axis: vertically') } }),
});

const ROTATIONS = ['none', '90 degrees', '180 degrees', '270 degrees'] as const;
type Rotation = (typeof ROTATIONS)[number];

export function rotatedShape(samples: Shape, rotation: Rotation): Shape {
  const [b, c, h, w] = samples as Dims4;
  return rotation === '90 degrees' || rotation === '270 degrees' ? [b, c, w, h] : samples;
}

/** torch.rot90(x, k, dims=[3, 2]): k quarter turns clockwise as the picture is shown (y down). */
export function rotatePlanes(t: Tensor<'float32'>, rotation: Rotation): Tensor<'float32'> {
  const k = ROTATIONS.indexOf(rotation);
  if (k === 0) return t;
  const [b, c, h, w] = dims(t);
  const [, , oh, ow] = rotatedShape(t.shape, rotation) as Dims4;
  const out = new Float32Array(t.size);
  for (let p = 0; p < b * c; p++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        const [sy, sx] = k === 1 ? [h - 1 - j, i] : k === 2 ? [h - 1 - i, w - 1 - j] : [j, w - 1 - i];
        out[(p * oh + i) * ow + j] = t.data[(p * h + sy) * w + sx]!;
      }
    }
  }
  return new Tensor('float32', out, [b, c, oh, ow]);
}

export const LatentRotate = defineNode({
  type: 'LatentRotate',
  displayName: 'Rotate Latent',
  category: 'latent/transform',
  version: '1.0.0',
  inputs: { samples: LATENT, rotation: COMBO(ROTATIONS) },
  outputs: { LATENT },
  infer: ({ rotation }, { samples }) => (samples && rotation !== undefined ? { LATENT: rotatedShape(samples, rotation) } : {}),
  run: (_ctx, { samples, rotation }) => ({ LATENT: { ...samples, samples: rotatePlanes(samples.samples, rotation) } }),
});

/**
 * LatentCrop's window in cells: x, y and the size are pixels // 8; the corner is pulled back so at
 * least 8 cells remain, and the window is then cut to the latent (Python slicing).
 */
export function latentCropWindow(h: number, w: number, width: number, height: number, x: number, y: number): { x: number; y: number; h: number; w: number } {
  const cx = Math.min(Math.floor(x / 8), w - 8);
  const cy = Math.min(Math.floor(y / 8), h - 8);
  const [x0, x1] = pySlice(cx, cx + Math.floor(width / 8), w);
  const [y0, y1] = pySlice(cy, cy + Math.floor(height / 8), h);
  return { x: x0, y: y0, h: y1 - y0, w: x1 - x0 };
}

export const LatentCrop = defineNode({
  type: 'LatentCrop',
  displayName: 'Crop Latent',
  category: 'latent/transform',
  version: '1.0.0',
  inputs: {
    samples: LATENT,
    width: INT({ default: 512, min: 64, max: MAX_RESOLUTION, step: 8 }),
    height: INT({ default: 512, min: 64, max: MAX_RESOLUTION, step: 8 }),
    x: INT({ default: 0, min: 0, max: MAX_RESOLUTION, step: 8 }),
    y: INT({ default: 0, min: 0, max: MAX_RESOLUTION, step: 8 }),
  },
  outputs: { LATENT },
  infer: ({ width, height, x, y }, { samples }) => {
    if (!samples || width === undefined || height === undefined || x === undefined || y === undefined) return {};
    const [b, c, h, w] = samples as Dims4;
    const win = latentCropWindow(h, w, width, height, x, y);
    return { LATENT: [b, c, win.h, win.w] };
  },
  run(_ctx, { samples, width, height, x, y }) {
    const t = samples.samples;
    const [b, c, h, w] = dims(t);
    const win = latentCropWindow(h, w, width, height, x, y);
    const out = new Float32Array(b * c * win.h * win.w);
    for (let p = 0; p < b * c; p++) {
      for (let r = 0; r < win.h; r++) {
        const src = (p * h + win.y + r) * w + win.x;
        out.set(t.data.subarray(src, src + win.w), (p * win.h + r) * win.w);
      }
    }
    // NOTE: as in ComfyUI, a noise_mask is passed on uncropped.
    return { LATENT: { ...samples, samples: new Tensor('float32', out, [b, c, win.h, win.w]) } };
  },
});

/** LatentBlend's output shape: samples1's, with torch broadcasting over a batch of 1. */
export function blendShape(s1: Shape, s2: Shape): Shape {
  const [b1, c1, h, w] = s1 as Dims4;
  const [b2, c2] = s2 as Dims4;
  if (c1 !== c2) throw new NodeInputError('samples2', `has ${c2} channels, samples1 has ${c1}`);
  if (b1 !== b2 && b1 !== 1 && b2 !== 1) throw new NodeInputError('samples2', `batch ${b2} does not broadcast against samples1's ${b1}`);
  return [Math.max(b1, b2), c1, h, w];
}

export const LatentBlend = defineNode({
  type: 'LatentBlend',
  displayName: 'Latent Blend',
  category: '_for_testing',
  version: '1.0.0',
  inputs: {
    samples1: LATENT,
    samples2: LATENT,
    blend_factor: FLOAT({ default: 0.5, min: 0, max: 1, step: 0.01 }),
  },
  outputs: { LATENT },
  infer: (_v, { samples1, samples2 }) => (samples1 && samples2 ? { LATENT: blendShape(samples1, samples2) } : {}),
  run(_ctx, { samples1, samples2, blend_factor }) {
    const a = samples1.samples;
    const [b1, c, h, w] = dims(a);
    const [b2, , h2, w2] = dims(samples2.samples);
    const shape = blendShape(a.shape, samples2.samples.shape);
    // ComfyUI resizes samples2 to samples1's size (bicubic, centre crop) when the shapes differ.
    const b = h2 === h && w2 === w ? samples2.samples : commonUpscale(samples2.samples, w, h, 'bicubic', 'center');
    const per = c * h * w;
    const n = shape[0]!;
    const out = new Float32Array(n * per);
    for (let r = 0; r < n; r++) {
      const ra = (b1 === 1 ? 0 : r) * per;
      const rb = (b2 === 1 ? 0 : r) * per;
      for (let i = 0; i < per; i++) out[r * per + i] = a.data[ra + i]! * blend_factor + b.data[rb + i]! * (1 - blend_factor);
    }
    return { LATENT: { ...samples1, samples: new Tensor('float32', out, shape) } };
  },
});
