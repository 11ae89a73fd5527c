/**
 * Separable convolution resampling as Pillow implements `Image.resize` (libImaging/Resample.c,
 * `precompute_coeffs`): the kernel support widens by the downscale factor (antialiasing), windows are
 * clipped to the image and renormalised, horizontal pass first. Hugging Face image processors and
 * openai/CLIP's torchvision transform resize through Pillow, so this is what CLIP models were fed.
 */
import type { ResampleFilter } from './preprocess-config.js';

interface Filter {
  readonly support: number;
  readonly fn: (x: number) => number;
}

/** Pillow's bicubic uses a = -0.5 (Catmull-Rom), not PyTorch's -0.75. */
function bicubic(x: number): number {
  const a = -0.5;
  const t = Math.abs(x);
  if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
  return 0;
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = Math.PI * x;
  return Math.sin(px) / px;
}

const FILTERS: Record<Exclude<ResampleFilter, 'nearest'>, Filter> = {
  box: { support: 0.5, fn: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0) },
  bilinear: { support: 1, fn: (x) => (Math.abs(x) < 1 ? 1 - Math.abs(x) : 0) },
  hamming: { support: 1, fn: (x) => (Math.abs(x) >= 1 ? 0 : x === 0 ? 1 : sinc(x) * (0.54 + 0.46 * Math.cos(Math.PI * x))) },
  bicubic: { support: 2, fn: bicubic },
  lanczos: { support: 3, fn: (x) => (Math.abs(x) < 3 ? sinc(x) * sinc(x / 3) : 0) },
};

/** Per output pixel: the first source index, the tap count and `ksize` weights (row-major). */
export interface Coefficients {
  readonly start: Int32Array;
  readonly count: Int32Array;
  readonly weights: Float64Array;
  readonly ksize: number;
}

export function coefficients(inSize: number, outSize: number, filter: ResampleFilter): Coefficients {
  const scale = inSize / outSize;
  if (filter === 'nearest') {
    const start = new Int32Array(outSize);
    for (let o = 0; o < outSize; o++) start[o] = Math.min(inSize - 1, Math.floor((o + 0.5) * scale));
    return { start, count: new Int32Array(outSize).fill(1), weights: new Float64Array(outSize).fill(1), ksize: 1 };
  }
  const f = FILTERS[filter];
  const filterscale = Math.max(scale, 1);
  const support = f.support * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * ksize);
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    // NOTE: Pillow truncates toward zero with a C cast; Math.trunc keeps its window edges.
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let sum = 0;
    for (let x = 0; x < xmax; x++) {
      const w = f.fn((x + xmin - center + 0.5) / filterscale);
      weights[o * ksize + x] = w;
      sum += w;
    }
    if (sum !== 0) for (let x = 0; x < xmax; x++) weights[o * ksize + x]! /= sum;
    start[o] = xmin;
    count[o] = xmax;
  }
  return { start, count, weights, ksize };
}

/** Resizes one channels-last image (h x w x c, row-major) to outH x outW. */
export function resizePil(src: Float32Array, h: number, w: number, c: number, outH: number, outW: number, filter: ResampleFilter): Float32Array {
  let cur = src;
  let curW = w;
  if (outW !== w) {
    const k = coefficients(w, outW, filter);
    const tmp = new Float32Array(h * outW * c);
    for (let y = 0; y < h; y++) {
      const row = y * w * c;
      for (let x = 0; x < outW; x++) {
        const s0 = k.start[x]!, n = k.count[x]!, wo = x * k.ksize;
        const dst = (y * outW + x) * c;
        if (c === 3) {
          // All three channels in one sweep over the taps (RGB is the only case on the hot path).
          let r = 0, g = 0, b = 0;
          for (let t = 0, p = row + s0 * 3; t < n; t++, p += 3) {
            const wt = k.weights[wo + t]!;
            r += cur[p]! * wt;
            g += cur[p + 1]! * wt;
            b += cur[p + 2]! * wt;
          }
          tmp[dst] = r;
          tmp[dst + 1] = g;
          tmp[dst + 2] = b;
          continue;
        }
        for (let ch = 0; ch < c; ch++) {
          let acc = 0;
          for (let t = 0; t < n; t++) acc += cur[row + (s0 + t) * c + ch]! * k.weights[wo + t]!;
          tmp[dst + ch] = acc;
        }
      }
    }
    cur = tmp;
    curW = outW;
  }
  if (outH !== h) {
    const k = coefficients(h, outH, filter);
    const tmp = new Float32Array(outH * curW * c);
    const stride = curW * c;
    for (let y = 0; y < outH; y++) {
      const s0 = k.start[y]!, n = k.count[y]!, wo = y * k.ksize;
      const dst = y * stride;
      for (let t = 0; t < n; t++) {
        const wt = k.weights[wo + t]!;
        const srcRow = (s0 + t) * stride;
        for (let i = 0; i < stride; i++) tmp[dst + i]! += cur[srcRow + i]! * wt;
      }
    }
    cur = tmp;
  }
  return cur === src ? src.slice() : cur;
}
