import { Tensor } from '../runtime/tensor.js';
import { bislerp } from './bislerp.js';

/** Interpolation modes of ComfyUI's `common_upscale` (torch.nn.functional.interpolate, plus area and lanczos). */
export const UPSCALE_METHODS = ['nearest-exact', 'bilinear', 'area', 'bicubic', 'lanczos'] as const;
export type UpscaleMethod = (typeof UPSCALE_METHODS)[number];

type Weights = { index: Int32Array; weight: Float32Array; taps: number };

function clampIndex(i: number, n: number): number {
  return i < 0 ? 0 : i >= n ? n - 1 : i;
}

/** Cubic convolution kernel with a = -0.75 (Keys 1981), PyTorch's bicubic coefficient. */
function cubic(x: number): number {
  const a = -0.75;
  const t = Math.abs(x);
  if (t <= 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a;
  return 0;
}

function lanczos3(x: number): number {
  if (x === 0) return 1;
  if (Math.abs(x) >= 3) return 0;
  const px = Math.PI * x;
  return (3 * Math.sin(px) * Math.sin(px / 3)) / (px * px);
}

/**
 * One-dimensional resampling weights. nearest-exact, bilinear and bicubic follow torch.nn.functional.interpolate
 * (align_corners=False, no antialias); area is adaptive average pooling; lanczos scales its support when
 * shrinking, as PIL does.
 */
function weights(inSize: number, outSize: number, method: UpscaleMethod): Weights {
  const scale = inSize / outSize;
  if (method === 'nearest-exact') {
    const index = new Int32Array(outSize);
    for (let o = 0; o < outSize; o++) index[o] = clampIndex(Math.floor((o + 0.5) * scale), inSize);
    return { index, weight: new Float32Array(outSize).fill(1), taps: 1 };
  }
  if (method === 'area') {
    const taps = Math.ceil(scale) + 1;
    const index = new Int32Array(outSize * taps);
    const weight = new Float32Array(outSize * taps);
    for (let o = 0; o < outSize; o++) {
      const start = Math.floor((o * inSize) / outSize);
      const end = Math.ceil(((o + 1) * inSize) / outSize);
      const n = end - start;
      for (let k = 0; k < taps; k++) {
        index[o * taps + k] = clampIndex(start + Math.min(k, n - 1), inSize);
        weight[o * taps + k] = k < n ? 1 / n : 0;
      }
    }
    return { index, weight, taps };
  }
  if (method === 'bilinear' || method === 'bicubic') {
    const taps = method === 'bilinear' ? 2 : 4;
    const index = new Int32Array(outSize * taps);
    const weight = new Float32Array(outSize * taps);
    for (let o = 0; o < outSize; o++) {
      const src = method === 'bilinear' ? Math.max((o + 0.5) * scale - 0.5, 0) : (o + 0.5) * scale - 0.5;
      const i0 = Math.floor(src);
      const f = src - i0;
      if (method === 'bilinear') {
        index[o * 2] = clampIndex(i0, inSize);
        index[o * 2 + 1] = clampIndex(i0 + 1, inSize);
        weight[o * 2] = 1 - f;
        weight[o * 2 + 1] = f;
      } else {
        for (let k = 0; k < 4; k++) {
          index[o * 4 + k] = clampIndex(i0 - 1 + k, inSize);
          weight[o * 4 + k] = cubic(f - (k - 1));
        }
      }
    }
    return { index, weight, taps };
  }
  const support = 3 * Math.max(scale, 1);
  const taps = Math.ceil(support) * 2 + 1;
  const index = new Int32Array(outSize * taps);
  const weight = new Float32Array(outSize * taps);
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    const first = Math.floor(center - support);
    let sum = 0;
    for (let k = 0; k < taps; k++) {
      const i = first + k;
      const w = lanczos3((i + 0.5 - center) / Math.max(scale, 1));
      index[o * taps + k] = clampIndex(i, inSize);
      weight[o * taps + k] = w;
      sum += w;
    }
    for (let k = 0; k < taps; k++) weight[o * taps + k]! /= sum || 1;
  }
  return { index, weight, taps };
}

/** Resizes the last two axes of a row-major float tensor [..., H, W] (separable: rows, then columns). */
export function resizePlanes(t: Tensor<'float32'>, outH: number, outW: number, method: UpscaleMethod): Tensor<'float32'> {
  const shape = t.shape;
  const h = shape[shape.length - 2]!;
  const w = shape[shape.length - 1]!;
  const planes = t.size / (h * w);
  const wx = weights(w, outW, method);
  const wy = weights(h, outH, method);
  const tmp = new Float32Array(h * outW);
  const out = new Float32Array(planes * outH * outW);
  for (let p = 0; p < planes; p++) {
    const src = t.data.subarray(p * h * w, (p + 1) * h * w);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < outW; x++) {
        let s = 0;
        for (let k = 0; k < wx.taps; k++) s += src[y * w + wx.index[x * wx.taps + k]!]! * wx.weight[x * wx.taps + k]!;
        tmp[y * outW + x] = s;
      }
    }
    const dst = out.subarray(p * outH * outW, (p + 1) * outH * outW);
    for (let y = 0; y < outH; y++) {
      for (let x = 0; x < outW; x++) {
        let s = 0;
        for (let k = 0; k < wy.taps; k++) s += tmp[wy.index[y * wy.taps + k]! * outW + x]! * wy.weight[y * wy.taps + k]!;
        dst[y * outW + x] = s;
      }
    }
  }
  return new Tensor('float32', out, [...shape.slice(0, -2), outH, outW]);
}

/** Moves channels: [B,H,W,C] <-> [B,C,H,W]. */
export function toChannelsFirst(t: Tensor<'float32'>): Tensor<'float32'> {
  const [b, h, w, c] = t.shape as [number, number, number, number];
  const out = new Float32Array(t.size);
  for (let n = 0; n < b; n++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let k = 0; k < c; k++) out[((n * c + k) * h + y) * w + x] = t.data[((n * h + y) * w + x) * c + k]!;
  return new Tensor('float32', out, [b, c, h, w]);
}

export function toChannelsLast(t: Tensor<'float32'>): Tensor<'float32'> {
  const [b, c, h, w] = t.shape as [number, number, number, number];
  const out = new Float32Array(t.size);
  for (let n = 0; n < b; n++)
    for (let k = 0; k < c; k++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) out[((n * h + y) * w + x) * c + k] = t.data[((n * c + k) * h + y) * w + x]!;
  return new Tensor('float32', out, [b, h, w, c]);
}

/** Crops [..., H, W] planes to a centred window with the target aspect ratio (ComfyUI `crop: center`). */
export function centerCropToAspect(t: Tensor<'float32'>, outH: number, outW: number): Tensor<'float32'> {
  const shape = t.shape;
  const h = shape[shape.length - 2]!;
  const w = shape[shape.length - 1]!;
  const old = w / h;
  const target = outW / outH;
  let x0 = 0, y0 = 0, cw = w, ch = h;
  if (old > target) {
    cw = Math.round(w * (target / old));
    x0 = Math.floor((w - cw) / 2);
  } else if (old < target) {
    ch = Math.round(h * (old / target));
    y0 = Math.floor((h - ch) / 2);
  }
  if (cw === w && ch === h) return t;
  const planes = t.size / (h * w);
  const out = new Float32Array(planes * ch * cw);
  for (let p = 0; p < planes; p++)
    for (let y = 0; y < ch; y++) out.set(t.data.subarray(p * h * w + (y + y0) * w + x0, p * h * w + (y + y0) * w + x0 + cw), (p * ch + y) * cw);
  return new Tensor('float32', out, [...shape.slice(0, -2), ch, cw]);
}

/** ComfyUI's `common_upscale` on channels-first tensors [B,C,H,W]; bislerp is for latents. */
export function commonUpscale(t: Tensor<'float32'>, outW: number, outH: number, method: UpscaleMethod | 'bislerp', crop: 'disabled' | 'center'): Tensor<'float32'> {
  const src = crop === 'center' ? centerCropToAspect(t, outH, outW) : t;
  return method === 'bislerp' ? bislerp(src, outW, outH) : resizePlanes(src, outH, outW, method);
}
