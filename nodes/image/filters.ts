/**
 * Finishing filters of ComfyUI comfy_extras/nodes_post_processing.py: ImageBlend, ImageBlur, ImageSharpen,
 * ImageQuantize and ImageScaleToTotalPixels. IMAGE is [B,H,W,C] in 0..1.
 */
import { COMBO, FLOAT, INT, NodeInputError, defineNode } from '../../engine/index.js';
import { IMAGE } from '../../sockets/index.js';
import { Tensor } from '../../runtime/tensor.js';
import { UPSCALE_METHODS, commonUpscale, toChannelsFirst, toChannelsLast } from '../../imaging/resample.js';
import { bayerDither, mapToPalette, medianCutPalette } from '../../imaging/quantize.js';
import { pythonRound } from './image-ops.js';

const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

/** node_helpers.image_alpha_fix: `source` takes `destination`'s channel count (cut, or padded with opaque 1.0). */
export function alphaFix(destination: Tensor<'float32'>, source: Tensor<'float32'>): Tensor<'float32'> {
  const c1 = destination.shape[3]!;
  const [b, h, w, c2] = source.shape as [number, number, number, number];
  if (c1 === c2) return source;
  const out = new Float32Array(b * h * w * c1).fill(1);
  for (let p = 0; p < b * h * w; p++) for (let c = 0; c < Math.min(c1, c2); c++) out[p * c1 + c] = source.data[p * c2 + c]!;
  return new Tensor('float32', out, [b, h, w, c1]);
}

export const BLEND_MODES = ['normal', 'multiply', 'screen', 'overlay', 'soft_light', 'difference'] as const;
export type BlendMode = (typeof BLEND_MODES)[number];

/** Blend.g: the soft-light curve. */
function softLightG(x: number): number {
  return x <= 0.25 ? ((16 * x - 12) * x + 4) * x : Math.sqrt(x);
}

/** Blend.blend_mode for one value pair. */
export function blendValue(a: number, b: number, mode: BlendMode): number {
  switch (mode) {
    case 'normal': return b;
    case 'multiply': return a * b;
    case 'screen': return 1 - (1 - a) * (1 - b);
    case 'overlay': return a <= 0.5 ? 2 * a * b : 1 - 2 * (1 - a) * (1 - b);
    case 'soft_light': return b <= 0.5 ? a - (1 - 2 * b) * a * (1 - a) : a + (2 * b - 1) * (softLightG(a) - a);
    case 'difference': return a - b;
  }
}

export const ImageBlend = defineNode({
  type: 'ImageBlend',
  displayName: 'Blend Images',
  category: 'image/postprocessing',
  version: '1.0.0',
  inputs: {
    image1: IMAGE,
    image2: IMAGE,
    blend_factor: FLOAT({ default: 0.5, min: 0.0, max: 1.0, step: 0.01 }),
    blend_mode: COMBO(BLEND_MODES),
  },
  outputs: { IMAGE },
  infer: (_v, { image1, image2 }) => {
    if (!image1) return {};
    const [b, h, w, c] = image1 as [number, number, number, number];
    return { IMAGE: [Math.max(b, image2?.[0] ?? b), h, w, c] };
  },
  run(_ctx, { image1, image2, blend_factor, blend_mode }) {
    const [B1, H, W, C] = image1.shape as [number, number, number, number];
    let two = alphaFix(image1, image2);
    if (two.shape.some((d, i) => d !== image1.shape[i])) {
      two = toChannelsLast(commonUpscale(toChannelsFirst(two), W, H, 'bicubic', 'center'));
    }
    const B2 = two.shape[0]!;
    if (B1 !== B2 && B1 !== 1 && B2 !== 1) throw new NodeInputError('image2', `a batch of ${B2} does not blend with a batch of ${B1}`);
    const B = Math.max(B1, B2);
    const n = H * W * C;
    const out = new Float32Array(B * n);
    for (let b = 0; b < B; b++) {
      const o1 = (B1 === 1 ? 0 : b) * n;
      const o2 = (B2 === 1 ? 0 : b) * n;
      for (let i = 0; i < n; i++) {
        const a = image1.data[o1 + i]!;
        const v = a * (1 - blend_factor) + blendValue(a, two.data[o2 + i]!, blend_mode) * blend_factor;
        // Alpha stores transparency, not colour: image1's is kept.
        out[b * n + i] = C === 4 && i % 4 === 3 ? a : clamp01(v);
      }
    }
    return { IMAGE: new Tensor('float32', out, [B, H, W, C]) };
  },
});

/**
 * gaussian_kernel(k, sigma) of nodes_post_processing.py, one axis of it: the kernel there is
 * exp(-(x^2 + y^2) / (2 sigma^2)) over linspace(-1, 1, k)^2, normalised, which is the outer product of
 * this normalised 1-D kernel with itself.
 */
export function gaussianTaps(size: number, sigma: number): Float64Array {
  const t = new Float64Array(size);
  let sum = 0;
  for (let i = 0; i < size; i++) {
    const x = size === 1 ? -1 : -1 + (2 * i) / (size - 1);
    t[i] = Math.exp(-(x * x) / (2 * sigma * sigma));
    sum += t[i]!;
  }
  for (let i = 0; i < size; i++) t[i]! /= sum;
  return t;
}

/** torch 'reflect' padding as an index map (the edge pixel is not repeated). */
function reflect(i: number, n: number): number {
  return i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i;
}

/** A Gaussian blur of every channel with reflect padding (F.pad reflect + F.conv2d, separably). */
export function gaussianBlur(image: Tensor<'float32'>, radius: number, sigma: number, input: string): Float32Array {
  const [B, H, W, C] = image.shape as [number, number, number, number];
  if (radius >= H || radius >= W) throw new NodeInputError(input, `a radius of ${radius} needs an image larger than ${radius}x${radius} (reflect padding); got ${W}x${H}`);
  const taps = gaussianTaps(radius * 2 + 1, sigma);
  const tmp = new Float64Array(H * W * C);
  const out = new Float32Array(image.size);
  for (let b = 0; b < B; b++) {
    const src = image.data.subarray(b * H * W * C, (b + 1) * H * W * C);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        for (let c = 0; c < C; c++) {
          let s = 0;
          for (let k = -radius; k <= radius; k++) s += taps[k + radius]! * src[(y * W + reflect(x + k, W)) * C + c]!;
          tmp[(y * W + x) * C + c] = s;
        }
      }
    }
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        for (let c = 0; c < C; c++) {
          let s = 0;
          for (let k = -radius; k <= radius; k++) s += taps[k + radius]! * tmp[(reflect(y + k, H) * W + x) * C + c]!;
          out[((b * H + y) * W + x) * C + c] = s;
        }
      }
    }
  }
  return out;
}

export const ImageBlur = defineNode({
  type: 'ImageBlur',
  displayName: 'Blur Image',
  category: 'image/postprocessing',
  version: '1.0.0',
  inputs: {
    image: IMAGE,
    blur_radius: INT({ default: 1, min: 1, max: 31, step: 1 }),
    sigma: FLOAT({ default: 1.0, min: 0.1, max: 10.0, step: 0.1 }),
  },
  outputs: { IMAGE },
  infer: (_v, { image }) => (image ? { IMAGE: image } : {}),
  run(_ctx, { image, blur_radius, sigma }) {
    if (blur_radius === 0) return { IMAGE: image };
    return { IMAGE: new Tensor('float32', gaussianBlur(image, blur_radius, sigma, 'blur_radius'), image.shape) };
  },
});

export const ImageSharpen = defineNode({
  type: 'ImageSharpen',
  displayName: 'Sharpen Image',
  category: 'image/postprocessing',
  version: '1.0.0',
  inputs: {
    image: IMAGE,
    sharpen_radius: INT({ default: 1, min: 1, max: 31, step: 1, advanced: true }),
    sigma: FLOAT({ default: 1.0, min: 0.1, max: 10.0, step: 0.01, advanced: true }),
    alpha: FLOAT({ default: 1.0, min: 0.0, max: 5.0, step: 0.01, advanced: true }),
  },
  outputs: { IMAGE },
  infer: (_v, { image }) => (image ? { IMAGE: image } : {}),
  run(_ctx, { image, sharpen_radius, sigma, alpha }) {
    if (sharpen_radius === 0) return { IMAGE: image };
    // Sharpen's kernel is -10a x gaussian with its centre raised so it sums to 1, i.e. (1 + 10a) x the
    // image minus 10a x its blur; then clamped to 0..1.
    const blur = gaussianBlur(image, sharpen_radius, sigma, 'sharpen_radius');
    const k = alpha * 10;
    const out = new Float32Array(image.size);
    for (let i = 0; i < out.length; i++) out[i] = clamp01((1 + k) * image.data[i]! - k * blur[i]!);
    return { IMAGE: new Tensor('float32', out, image.shape) };
  },
});

export const DITHERS = ['none', 'floyd-steinberg', 'bayer-2', 'bayer-4', 'bayer-8', 'bayer-16'] as const;

export const ImageQuantize = defineNode({
  type: 'ImageQuantize',
  displayName: 'Quantize Image',
  category: 'image/postprocessing',
  version: '1.0.0',
  inputs: {
    image: IMAGE,
    colors: INT({ default: 256, min: 1, max: 256, step: 1 }),
    dither: COMBO(DITHERS),
  },
  outputs: { IMAGE },
  infer: (_v, { image }) => (image ? { IMAGE: image } : {}),
  run(_ctx, { image, colors, dither }) {
    const [B, H, W, C] = image.shape as [number, number, number, number];
    const out = new Float32Array(image.size);
    for (let b = 0; b < B; b++) {
      // (rgb * 255).to(torch.uint8): truncation, on values kept inside 0..255.
      const rgb = new Uint8Array(H * W * 3);
      for (let p = 0; p < H * W; p++) {
        for (let c = 0; c < 3; c++) rgb[p * 3 + c] = Math.trunc(Math.fround(clamp01(image.data[(b * H * W + p) * C + Math.min(c, C - 1)]!) * 255));
      }
      const palette = medianCutPalette(rgb, colors);
      const mapped = dither.startsWith('bayer')
        ? bayerDither(rgb, W, H, palette, Number(dither.split('-')[1]))
        : mapToPalette(rgb, W, H, palette, dither === 'floyd-steinberg' ? 'floyd-steinberg' : 'none');
      for (let p = 0; p < H * W; p++) {
        const o = (b * H * W + p) * C;
        for (let c = 0; c < 3; c++) out[o + c] = mapped[p * 3 + c]! / 255;
        for (let c = 3; c < C; c++) out[o + c] = image.data[o + c]!;
      }
    }
    return { IMAGE: new Tensor('float32', out, image.shape) };
  },
});

/** ImageScaleToTotalPixels' size: sides times sqrt(megapixels x 2^20 / pixels), each rounded to a multiple of `steps`. */
export function totalPixelsSize(h: number, w: number, megapixels: number, steps: number): [h: number, w: number] {
  const scaleBy = Math.sqrt((megapixels * 1024 * 1024) / (w * h));
  return [pythonRound((h * scaleBy) / steps) * steps, pythonRound((w * scaleBy) / steps) * steps];
}

export const ImageScaleToTotalPixels = defineNode({
  type: 'ImageScaleToTotalPixels',
  displayName: 'Scale Image to Total Pixels',
  category: 'image/upscaling',
  version: '1.0.0',
  inputs: {
    image: IMAGE,
    upscale_method: COMBO(UPSCALE_METHODS),
    megapixels: FLOAT({ default: 1.0, min: 0.01, max: 16.0, step: 0.01 }),
    resolution_steps: INT({ default: 1, min: 1, max: 256, advanced: true }),
  },
  outputs: { IMAGE },
  infer: ({ megapixels, resolution_steps }, { image }) => {
    if (!image || megapixels === undefined) return {};
    const [b, h, w, c] = image as [number, number, number, number];
    return { IMAGE: [b, ...totalPixelsSize(h, w, megapixels, resolution_steps ?? 1), c] };
  },
  run(_ctx, { image, upscale_method, megapixels, resolution_steps }) {
    const [, h, w] = image.shape as [number, number, number, number];
    const [oh, ow] = totalPixelsSize(h, w, megapixels, resolution_steps);
    if (oh < 1 || ow < 1) throw new NodeInputError('resolution_steps', `${megapixels} megapixels in steps of ${resolution_steps} leaves a ${w}x${h} image no pixels (${ow}x${oh})`);
    return { IMAGE: toChannelsLast(commonUpscale(toChannelsFirst(image), ow, oh, upscale_method, 'disabled')) };
  },
});
