/**
 * The float32 arithmetic around the denoiser's U-Net calls (ComfyUI calc_cond_batch, cfg_function):
 * cropping each job's region out of the latent, weighting the denoised rows back into per-cell sums, and
 * combining the cond and uncond estimates. Every expression keeps ComfyUI's float32 rounding steps, so
 * the order of operations here is part of the output.
 */
import type { Tensor } from '../../runtime/tensor.js';
import type { Job } from './denoiser-plan.js';

/** Float32 1e-37: ComfyUI's starting weight count, so cells no entry covers do not divide by zero. */
const COUNT_FLOOR = Math.fround(1e-37);

/** The sample rows of the plain path: x * c_in, repeated for the uncond row when there is one. */
export function plainSample(xs: Float32Array, cIn: number, jobs: number): Float32Array {
  const n = xs.length;
  const sample = new Float32Array(jobs * n);
  for (let i = 0; i < n; i++) sample[i] = xs[i]! * cIn;
  if (jobs === 2) sample.copyWithin(n, 0, n);
  return sample;
}

// Strength 1 (every plain entry): x * 1 / 1 is x in float32, so the weighting steps drop out.
const unit = (s: number, c: number) => s === 1 && c === 1;

/** The plain path without uncond: the cond estimate weighted by its strength `sc`. */
export function plainCond(dc: Float32Array, sc: number): Float32Array {
  const nc = Math.fround(COUNT_FLOOR + sc);
  if (unit(sc, nc)) return dc;
  const result = new Float32Array(dc.length);
  for (let i = 0; i < dc.length; i++) result[i] = Math.fround(dc[i]! * sc) / nc;
  return result;
}

/**
 * The plain path's CFG of a cond (strength `sc`) and an uncond (strength `su`) estimate; the weighted uncond
 * estimate goes to `uncondOut` when given (CFG++ samplers).
 */
export function plainCfg(dc: Float32Array, sc: number, du: Float32Array, su: number, cfg: number, uncondOut?: Float32Array): Float32Array {
  const n = dc.length;
  const nc = Math.fround(COUNT_FLOOR + sc);
  const nu = Math.fround(COUNT_FLOOR + su);
  const result = new Float32Array(n);
  if (unit(sc, nc) && unit(su, nu)) {
    for (let i = 0; i < n; i++) result[i] = du[i]! + (dc[i]! - du[i]!) * cfg;
    uncondOut?.set(du);
    return result;
  }
  for (let i = 0; i < n; i++) {
    const c = Math.fround(dc[i]! * sc) / nc;
    const u = Math.fround(du[i]! * su) / nu;
    result[i] = u + (c - u) * cfg;
    if (uncondOut) uncondOut[i] = u;
  }
  return result;
}

/** The rows of one U-Net call: each job's region of every latent row, unscaled (`raw`) and times c_in (`sample`). */
export interface Crops {
  readonly raw: Float32Array;
  readonly sample: Float32Array;
  readonly shape: readonly [number, number, number, number];
}

/** Crops the jobs' regions (all of one size) out of x [B,C,H,W], job by job, B rows each. */
export function cropRegions(x: Tensor, jobs: readonly Job[], cIn: number): Crops {
  const [B, C, H, W] = x.shape;
  const { h, w } = jobs[0].region;
  const rows = jobs.length * B;
  const cell = C * h * w;
  const raw = new Float32Array(rows * cell);
  jobs.forEach((j, gi) => {
    for (let b = 0; b < B; b++) {
      const base = (gi * B + b) * cell;
      for (let c = 0; c < C; c++) {
        for (let i = 0; i < h; i++) {
          const src = ((b * C + c) * H + j.region.y + i) * W + j.region.x;
          raw.set(x.data.subarray(src, src + w), base + (c * h + i) * w);
        }
      }
    }
  });
  const sample = new Float32Array(raw.length);
  for (let i = 0; i < raw.length; i++) sample[i] = raw[i] * cIn;
  return { raw, sample, shape: [rows, C, h, w] };
}

/** Per kind (0 = cond, 1 = uncond): the weighted sum of denoised estimates [B,C,H,W] and the weights' sum [B,H,W]. */
export interface Accumulator {
  readonly sums: readonly [Float32Array, Float32Array | undefined];
  readonly counts: readonly [Float32Array, Float32Array | undefined];
}

export function makeAccumulator(B: number, C: number, H: number, W: number, useUncond: boolean): Accumulator {
  const size = B * C * H * W;
  const cells = B * H * W;
  return {
    sums: [new Float32Array(size), useUncond ? new Float32Array(size) : undefined],
    counts: [new Float32Array(cells).fill(1e-37), useUncond ? new Float32Array(cells).fill(1e-37) : undefined],
  };
}

/** Adds one call's denoised rows (laid out as `cropRegions` made them) into the sums, each cell by its job's weight. */
export function accumulate(acc: Accumulator, jobs: readonly Job[], denoised: Float32Array, latentShape: readonly number[]): void {
  const [B, C, H, W] = latentShape;
  const plane = H * W;
  const { h, w } = jobs[0].region;
  const cell = C * h * w;
  jobs.forEach((j, gi) => {
    const sum = acc.sums[j.kind]!;
    const count = acc.counts[j.kind]!;
    for (let b = 0; b < B; b++) {
      const base = (gi * B + b) * cell;
      for (let i = 0; i < h; i++) {
        for (let k = 0; k < w; k++) {
          const wgt = j.weights[(((b % j.weightRows) * h + i) * w) + k];
          const p = (j.region.y + i) * W + j.region.x + k;
          count[b * plane + p] += wgt;
          for (let c = 0; c < C; c++) sum[(b * C + c) * plane + p] += denoised[base + (c * h + i) * w + k] * wgt;
        }
      }
    }
  });
}

/** Each kind's weighted mean, then CFG between them (the cond mean alone without uncond); the uncond mean to `uncondOut`. */
export function combineCfg(acc: Accumulator, latentShape: readonly number[], cfg: number, uncondOut?: Float32Array): Float32Array {
  const [B, C, H, W] = latentShape;
  const plane = H * W;
  const result = new Float32Array(B * C * plane);
  const [cond, uncond] = acc.sums;
  const [condCount, uncondCount] = acc.counts;
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      for (let p = 0; p < plane; p++) {
        const idx = (b * C + c) * plane + p;
        const dc = cond[idx] / condCount[b * plane + p];
        if (!uncond) result[idx] = dc;
        else {
          const du = uncond[idx] / uncondCount![b * plane + p];
          result[idx] = du + (dc - du) * cfg;
          if (uncondOut) uncondOut[idx] = du;
        }
      }
    }
  }
  return result;
}
