/**
 * Latent nodes (ComfyUI nodes.py EmptyLatentImage, SetLatentNoiseMask, LatentUpscale, LatentUpscaleBy,
 * LatentComposite). LATENT samples are raw VAE latents [B,4,H/8,W/8].
 */
import { COMBO, FLOAT, INT, NodeInputError, defineNode } from '../../engine/index.js';
import { commonUpscale, type UpscaleMethod } from '../../imaging/resample.js';
import { Tensor } from '../../runtime/tensor.js';
import { LATENT, MASK, type Latent } from '../../sockets/index.js';
import { MAX_RESOLUTION } from './conditioning.js';
import { SD_LATENT_CHANNELS, latentScaleByCells, latentUpscaleCells } from './shape-rules.js';

export const LATENT_UPSCALE_METHODS = ['nearest-exact', 'bilinear', 'area', 'bicubic', 'bislerp'] as const satisfies readonly (UpscaleMethod | 'bislerp')[];
const CROP_METHODS = ['disabled', 'center'] as const;

export const EmptyLatentImage = defineNode({
  type: 'EmptyLatentImage',
  displayName: 'Empty Latent Image',
  category: 'latent',
  version: '1.0.0',
  description: 'Create a new batch of empty latent images to be denoised via sampling.',
  inputs: {
    width: INT({ default: 512, min: 16, max: MAX_RESOLUTION, step: 8, tooltip: 'The width of the latent images in pixels.' }),
    height: INT({ default: 512, min: 16, max: MAX_RESOLUTION, step: 8, tooltip: 'The height of the latent images in pixels.' }),
    batch_size: INT({ default: 1, min: 1, max: 4096, tooltip: 'The number of latent images in the batch.' }),
  },
  outputs: { LATENT },
  infer: ({ width, height, batch_size }) => (width !== undefined && height !== undefined ? { LATENT: [batch_size ?? 1, SD_LATENT_CHANNELS, Math.floor(height / 8), Math.floor(width / 8)] } : {}),
  run: (_ctx, { width, height, batch_size }) => ({
    LATENT: { samples: Tensor.zeros([batch_size, SD_LATENT_CHANNELS, Math.floor(height / 8), Math.floor(width / 8)]) },
  }),
});

export const SetLatentNoiseMask = defineNode({
  type: 'SetLatentNoiseMask',
  displayName: 'Set Latent Noise Mask',
  category: 'latent/inpaint',
  version: '1.0.0',
  inputs: { samples: LATENT, mask: MASK },
  outputs: { LATENT },
  infer: (_v, { samples }) => ({ LATENT: samples }),
  run: (_ctx, { samples, mask }) => {
    const h = mask.shape[mask.shape.length - 2];
    const w = mask.shape[mask.shape.length - 1];
    return { LATENT: { ...samples, noise_mask: mask.reshape([mask.size / (h * w), 1, h, w]) } };
  },
});

function upscaleLatent(l: Latent, w: number, h: number, method: UpscaleMethod | 'bislerp', crop: 'disabled' | 'center'): Latent {
  return { ...l, samples: commonUpscale(l.samples, w, h, method, crop) };
}

export const LatentUpscale = defineNode({
  type: 'LatentUpscale',
  displayName: 'Upscale Latent',
  category: 'latent',
  version: '1.0.0',
  inputs: {
    samples: LATENT,
    upscale_method: COMBO(LATENT_UPSCALE_METHODS),
    width: INT({ default: 512, min: 0, max: MAX_RESOLUTION, step: 8 }),
    height: INT({ default: 512, min: 0, max: MAX_RESOLUTION, step: 8 }),
    crop: COMBO(CROP_METHODS),
  },
  outputs: { LATENT },
  infer: ({ width, height }, { samples }) => {
    if (!samples || width === undefined || height === undefined) return {};
    const [b, c, lh, lw] = samples as [number, number, number, number];
    const cells = latentUpscaleCells(lh, lw, width, height);
    return { LATENT: cells ? [b, c, ...cells] : samples };
  },
  run: (_ctx, { samples, upscale_method, width, height, crop }) => {
    const [, , lh, lw] = samples.samples.shape;
    const cells = latentUpscaleCells(lh!, lw!, width, height);
    return { LATENT: cells ? upscaleLatent(samples, cells[1], cells[0], upscale_method, crop) : samples };
  },
});

export const LatentUpscaleBy = defineNode({
  type: 'LatentUpscaleBy',
  displayName: 'Upscale Latent By',
  category: 'latent',
  version: '1.0.0',
  inputs: {
    samples: LATENT,
    upscale_method: COMBO(LATENT_UPSCALE_METHODS),
    scale_by: FLOAT({ default: 1.5, min: 0.01, max: 8.0, step: 0.01 }),
  },
  outputs: { LATENT },
  infer: ({ scale_by }, { samples }) => {
    if (!samples || scale_by === undefined) return {};
    const [b, c, h, w] = samples as [number, number, number, number];
    return { LATENT: [b, c, ...latentScaleByCells(h, w, scale_by)] };
  },
  run: (_ctx, { samples, upscale_method, scale_by }) => {
    const [, , h, w] = samples.samples.shape;
    const [th, tw] = latentScaleByCells(h!, w!, scale_by);
    return { LATENT: upscaleLatent(samples, tw, th, upscale_method, 'disabled') };
  },
});

/** Pastes `from` into `to` at (x, y) cells, feathering inner edges over `feather` cells (ComfyUI LatentComposite). */
export function compositeLatent(to: Tensor, from: Tensor, x: number, y: number, feather: number): Tensor {
  const [B, C, H, W] = to.shape;
  const [Bf, Cf, Hf, Wf] = from.shape;
  if (Cf !== C) throw new NodeInputError('samples_from', `has ${Cf} channels, samples_to has ${C}`);
  const h = Math.max(0, Math.min(Hf, H - y));
  const w = Math.max(0, Math.min(Wf, W - x));
  const mask = new Float32Array(h * w).fill(1);
  for (let t = 0; t < feather; t++) {
    const f = (t + 1) / feather;
    for (let j = 0; j < w; j++) {
      if (y !== 0 && t < h) mask[t * w + j] *= f;
      if (y + h < H && h - 1 - t >= 0) mask[(h - 1 - t) * w + j] *= f;
    }
    for (let i = 0; i < h; i++) {
      if (x !== 0 && t < w) mask[i * w + t] *= f;
      if (x + w < W && w - 1 - t >= 0) mask[i * w + w - 1 - t] *= f;
    }
  }
  const out = to.data.slice();
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < h; i++) {
        for (let j = 0; j < w; j++) {
          const dst = ((b * C + c) * H + y + i) * W + x + j;
          const src = (((b % Bf) * C + c) * Hf + i) * Wf + j;
          const m = mask[i * w + j];
          out[dst] = from.data[src] * m + out[dst] * (1 - m);
        }
      }
    }
  }
  return new Tensor('float32', out, to.shape);
}

export const LatentComposite = defineNode({
  type: 'LatentComposite',
  category: 'latent',
  version: '1.0.0',
  inputs: {
    samples_to: LATENT,
    samples_from: LATENT,
    x: INT({ default: 0, min: 0, max: MAX_RESOLUTION, step: 8 }),
    y: INT({ default: 0, min: 0, max: MAX_RESOLUTION, step: 8 }),
    feather: INT({ default: 0, min: 0, max: MAX_RESOLUTION, step: 8 }),
  },
  outputs: { LATENT },
  infer: (_v, { samples_to }) => ({ LATENT: samples_to }),
  run: (_ctx, { samples_to, samples_from, x, y, feather }) => ({
    LATENT: { ...samples_to, samples: compositeLatent(samples_to.samples, samples_from.samples, Math.floor(x / 8), Math.floor(y / 8), Math.floor(feather / 8)) },
  }),
});
