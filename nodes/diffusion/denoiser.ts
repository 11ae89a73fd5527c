/**
 * The U-Net denoiser adapter (ComfyUI comfy/samplers.py calc_cond_batch, get_area_and_mult, cfg_function;
 * KSamplerX0Inpaint): turns a U-Net into D(x, sigma) for the samplers. Cond and uncond rows of one
 * spatial size go to the U-Net in one call; cfg == 1 skips the uncond rows.
 */
import { Tensor } from '../../runtime/tensor.js';
import type { Denoiser } from '../../sampling/samplers/index.js';
import type { CondArea, CondEntry, Conditioning, DiffusionModel } from './types.js';
import type { UNetRequest } from '../../runtime/batching/unet-queue.js';
import { maskWeights } from './cond-mask.js';

/** Inpainting state (sampling.md): regenerate where mask = 1, keep `latent` elsewhere. */
export interface InpaintState {
  /** [B,C,H,W], already resized to the latent. */
  readonly mask: Float32Array;
  /** The input latent in U-Net space. */
  readonly latent: Float32Array;
  /** The initial noise (unscaled). */
  readonly noise: Float32Array;
}

export interface DenoiserOptions {
  readonly model: DiffusionModel;
  readonly positive: Conditioning;
  /** Omitted: no unconditional pass (BasicGuider). */
  readonly negative?: Conditioning;
  readonly cfg: number;
  readonly signal?: AbortSignal;
  readonly inpaint?: InpaintState;
}

/** Thrown when a conditioning cannot be used with this model or latent. */
export class ConditioningError extends Error {
  override readonly name = 'ConditioningError';
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** Region of an entry inside an H x W latent, clamped to it. */
function regionOf(area: CondArea | undefined, H: number, W: number): CondArea {
  if (!area) return { h: H, w: W, y: 0, x: 0 };
  const y = Math.min(Math.max(0, area.y), H - 1);
  const x = Math.min(Math.max(0, area.x), W - 1);
  return { y, x, h: Math.max(1, Math.min(area.h, H - y)), w: Math.max(1, Math.min(area.w, W - x)) };
}

/**
 * ComfyUI get_area_and_mult: strength everywhere, faded over 8 cells (1/8 .. 8/8) along each area edge
 * that lies inside the latent, so overlapping areas blend.
 */
export function areaWeights(r: CondArea, H: number, W: number, strength: number, hasArea: boolean): Float32Array {
  const m = new Float32Array(r.h * r.w).fill(strength);
  if (!hasArea) return m;
  const rr = 8;
  for (let t = 0; t < rr; t++) {
    const f = (t + 1) / rr;
    const row = (i: number) => {
      if (i < 0 || i >= r.h) return;
      for (let j = 0; j < r.w; j++) m[i * r.w + j] *= f;
    };
    const col = (j: number) => {
      if (j < 0 || j >= r.w) return;
      for (let i = 0; i < r.h; i++) m[i * r.w + j] *= f;
    };
    if (r.y !== 0) row(t);
    if (r.y + r.h < H) row(r.h - 1 - t);
    if (r.x !== 0) col(t);
    if (r.x + r.w < W) col(r.w - 1 - t);
  }
  return m;
}

/** diffusers get_guidance_scale_embedding: sin/cos features of w * 1000 (LCM `timestep_cond`). */
export function guidanceEmbedding(w: number, dim: number): Float32Array {
  const half = Math.floor(dim / 2);
  const out = new Float32Array(dim);
  const k = Math.log(10000) / (half - 1);
  for (let i = 0; i < half; i++) {
    const a = w * 1000 * Math.exp(-k * i);
    out[i] = Math.sin(a);
    out[half + i] = Math.cos(a);
  }
  return out;
}

interface Job {
  readonly entry: CondEntry;
  /** 0 = cond, 1 = uncond */
  readonly kind: 0 | 1;
  readonly region: CondArea;
  /** One region-sized plane per row of a mask (latent row b uses plane b % weightRows); one plane otherwise. */
  readonly weights: Float32Array;
  readonly weightRows: number;
}

/** Cond and uncond rows of one region size: one U-Net request per step. */
interface Group {
  readonly jobs: Job[];
  readonly embeds: Tensor;
  /** `embeds` kept in the U-Net's worker for the run (or `embeds` itself where it cannot be kept). */
  readonly cond: Promise<Tensor>;
  /** LCM `timestep_cond` rows: constant over the run. */
  extra?: Tensor;
}

/** D(x, sigma) for the samplers, plus `release` for what the run kept in the U-Net's worker. */
export type ReleasableDenoiser = Denoiser & {
  /** Frees the conditioning kept in the U-Net's worker; call when the sampling run ends, however it ends. */
  release(): Promise<void>;
};

const COUNT_FLOOR = Math.fround(1e-37);

/** Builds D(x, sigma) for a model, its conditionings and CFG scale. */
export function makeDenoiser(opts: DenoiserOptions): ReleasableDenoiser {
  const { model, positive, cfg, inpaint } = opts;
  const negative = opts.negative ?? [];
  const useUncond = opts.negative !== undefined && Math.abs(cfg - 1) > 1e-9;
  if (positive.length === 0) throw new ConditioningError('the positive conditioning is empty');
  if (useUncond && negative.length === 0) throw new ConditioningError('the negative conditioning is empty');
  const simple = (e: CondEntry) => e.area === undefined && e.timestepRange === undefined && e.mask === undefined;
  // The common case (one cond entry, at most one uncond entry, no areas or ranges) goes straight to CFG.
  const plain = positive.length === 1 && (!useUncond || negative.length === 1) && simple(positive[0]) && (!useUncond || simple(negative[0]));
  // ComfyUI samplers.py get_area_and_mult: an entry is skipped when sigma > sigma(start) or sigma < sigma(end).
  const bounds = new Map<CondEntry, { high: number; low: number }>();
  for (const e of [...positive, ...negative]) {
    if (e.timestepRange) bounds.set(e, { high: model.sampling.percentToSigma(e.timestepRange.start), low: model.sampling.percentToSigma(e.timestepRange.end) });
  }
  const activeAt = (e: CondEntry, sigma: number) => {
    const b = bounds.get(e);
    return !b || (sigma <= b.high && sigma >= b.low);
  };
  let timestepCond: Promise<{ name: string; dim: number } | undefined> | undefined;
  const lcmExtra = () =>
    (timestepCond ??= model.unet.inputShape('timestep_cond').then((shape) => {
      if (shape === undefined) return undefined;
      const d = shape[shape.length - 1];
      return { name: 'timestep_cond', dim: typeof d === 'number' ? d : 256 };
    }));

  const kept: Promise<Tensor>[] = [];
  let released = false;
  // Regions, area weights and stacked embeddings depend on the latent's shape and on which entries are
  // active (timestep ranges), not on sigma itself: built once per such plan (the embeddings kept in the
  // worker) for every step that shares it.
  const plans = new Map<string, Group[]>();
  function planFor(B: number, H: number, W: number, sigma: number): Group[] {
    const active = (cond: Conditioning) => cond.map((e) => (activeAt(e, sigma) ? '1' : '0')).join('');
    const key = `${B}x${H}x${W}/${active(positive)}/${useUncond ? active(negative) : ''}`;
    const cached = plans.get(key);
    if (cached) return cached;
    const jobs: Job[] = [];
    const add = (cond: Conditioning, kind: 0 | 1) => {
      for (const entry of cond) {
        if (!activeAt(entry, sigma)) continue;
        if (entry.mask) {
          const m = maskWeights(entry.mask, H, W, entry.strength, entry.area, (a) => regionOf(a, H, W));
          jobs.push({ entry, kind, region: m.region, weights: m.weights, weightRows: m.rows });
          continue;
        }
        const region = regionOf(entry.area, H, W);
        jobs.push({ entry, kind, region, weights: areaWeights(region, H, W, entry.strength, entry.area !== undefined), weightRows: 1 });
      }
    };
    add(positive, 0);
    if (useUncond) add(negative, 1);
    const bySize = new Map<string, Job[]>();
    for (const j of jobs) {
      const k = `${j.region.h}x${j.region.w}`;
      bySize.set(k, [...(bySize.get(k) ?? []), j]);
    }
    const groups = [...bySize.values()].map((g): Group => {
      const embeds = stackEmbeds(g.map((j) => j.entry.embeds), B);
      // Keeping is an optimisation: where it fails the rows travel with every call, as before.
      const cond = released ? Promise.resolve(embeds) : model.unet.keep(embeds).catch(() => embeds);
      kept.push(cond);
      return { jobs: g, embeds, cond };
    });
    plans.set(key, groups);
    return groups;
  }

  async function request(group: Group, sample: Float32Array, shape: readonly number[], timestep: number): Promise<Float32Array> {
    const rows = shape[0];
    const extraSpec = await lcmExtra();
    if (extraSpec && group.extra?.shape[0] !== rows) group.extra = repeatRows(guidanceEmbedding(model.lcmGuidance - 1, extraSpec.dim), rows);
    const out = await model.unet.submit({
      sample: new Tensor('float32', sample, shape),
      timesteps: new Float64Array(rows).fill(timestep),
      encoderHiddenStates: await group.cond,
      extra: extraSpec && group.extra ? { [extraSpec.name]: group.extra } : undefined,
      signal: opts.signal,
    });
    return out.data;
  }

  /** ComfyUI's calc_cond_batch + cfg_function for one full-latent cond (and uncond) entry, in the same float32 steps. */
  async function evaluatePlain(x: Tensor, sigma: number, group: Group): Promise<Float32Array> {
    const n = x.size;
    const [B, C, H, W] = x.shape;
    const jobs = group.jobs.length;
    const xs = x.data;
    const cIn = model.sampling.cIn(sigma);
    const sample = new Float32Array(jobs * n);
    for (let i = 0; i < n; i++) sample[i] = xs[i]! * cIn;
    if (jobs === 2) sample.copyWithin(n, 0, n);
    const out = await request(group, sample, [jobs * B, C, H, W], model.sampling.sigmaToTimestep(sigma, model.timestepMode));
    const dc = model.sampling.denoisedFromOutput(sigma, out.subarray(0, n), xs);
    const sc = group.jobs[0].weights[0];
    const nc = Math.fround(COUNT_FLOOR + sc);
    // Strength 1 (every plain entry): x * 1 / 1 is x in float32, so the weighting steps drop out.
    const unit = (s: number, c: number) => s === 1 && c === 1;
    if (jobs === 1) {
      if (unit(sc, nc)) return dc;
      const result = new Float32Array(n);
      for (let i = 0; i < n; i++) result[i] = Math.fround(dc[i]! * sc) / nc;
      return result;
    }
    // The request is answered, so its sample buffer is free to hold the uncond estimate.
    const du = model.sampling.denoisedFromOutput(sigma, out.subarray(n, 2 * n), xs, sample.subarray(0, n));
    const su = group.jobs[1].weights[0];
    const nu = Math.fround(COUNT_FLOOR + su);
    const result = new Float32Array(n);
    if (unit(sc, nc) && unit(su, nu)) {
      for (let i = 0; i < n; i++) result[i] = du[i]! + (dc[i]! - du[i]!) * cfg;
      return result;
    }
    for (let i = 0; i < n; i++) {
      const c = Math.fround(dc[i]! * sc) / nc;
      const u = Math.fround(du[i]! * su) / nu;
      result[i] = u + (c - u) * cfg;
    }
    return result;
  }

  async function evaluate(x: Tensor, sigma: number): Promise<Float32Array> {
    const [B, C, H, W] = x.shape;
    const plane = H * W;
    const groups = planFor(B, H, W, sigma);
    if (plain && groups.length === 1) return evaluatePlain(x, sigma, groups[0]);
    const timestep = model.sampling.sigmaToTimestep(sigma, model.timestepMode);
    const cIn = model.sampling.cIn(sigma);

    const sums = [new Float32Array(x.size), useUncond ? new Float32Array(x.size) : undefined];
    const counts = [new Float32Array(B * plane).fill(1e-37), useUncond ? new Float32Array(B * plane).fill(1e-37) : undefined];

    await Promise.all(
      groups.map(async (g) => {
        const group = g.jobs;
        const { h, w } = group[0].region;
        const rows = group.length * B;
        const cell = C * h * w;
        const raw = new Float32Array(rows * cell);
        group.forEach((j, gi) => {
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
        const out = await request(g, sample, [rows, C, h, w], timestep);
        const denoised = model.sampling.denoisedFromOutput(sigma, out, raw);
        group.forEach((j, gi) => {
          const sum = sums[j.kind]!;
          const count = counts[j.kind]!;
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
      }),
    );

    const result = new Float32Array(x.size);
    const cond = sums[0]!;
    const condCount = counts[0]!;
    for (let b = 0; b < B; b++) {
      for (let c = 0; c < C; c++) {
        for (let p = 0; p < plane; p++) {
          const idx = (b * C + c) * plane + p;
          const dc = cond[idx] / condCount[b * plane + p];
          if (!useUncond) result[idx] = dc;
          else {
            const du = sums[1]![idx] / counts[1]![b * plane + p];
            result[idx] = du + (dc - du) * cfg;
          }
        }
      }
    }
    return result;
  }

  const denoise: Denoiser = async (x, sigma) => {
    if (!inpaint) return new Tensor('float32', await evaluate(x, sigma), x.shape);
    const { mask, latent, noise } = inpaint;
    const xi = new Float32Array(x.size);
    for (let i = 0; i < xi.length; i++) xi[i] = x.data[i] * mask[i] + (latent[i] + noise[i] * sigma) * (1 - mask[i]);
    const d = await evaluate(new Tensor('float32', xi, x.shape), sigma);
    for (let i = 0; i < d.length; i++) d[i] = d[i] * mask[i] + latent[i] * (1 - mask[i]);
    return new Tensor('float32', d, x.shape);
  };
  const release = async (): Promise<void> => {
    released = true;
    const all = await Promise.all(kept.splice(0));
    await Promise.all(all.map((t) => model.unet.release(t)));
  };
  return Object.assign(denoise, { release });
}

function repeatRows(row: Float32Array, rows: number): Tensor {
  const out = new Float32Array(row.length * rows);
  for (let r = 0; r < rows; r++) out.set(row, r * row.length);
  return new Tensor('float32', out, [rows, row.length]);
}

/**
 * Stacks [1,seq,dim] embeddings, each repeated for `batch` rows; unequal lengths are tiled to their least
 * common multiple (ComfyUI CONDCrossAttn.concat).
 */
export function stackEmbeds(embeds: readonly Tensor[], batch: number): Tensor {
  const dim = embeds[0].shape[2];
  for (const e of embeds) {
    if (e.shape.length !== 3 || e.shape[2] !== dim) throw new ConditioningError(`conditioning tensors ${embeds.map((t) => t.describe()).join(', ')} do not share a width`);
  }
  const seq = embeds.reduce((l, e) => (l * e.shape[1]) / gcd(l, e.shape[1]), 1);
  const rowSize = seq * dim;
  const out = new Float32Array(embeds.length * batch * rowSize);
  embeds.forEach((e, gi) => {
    const row = new Float32Array(rowSize);
    const data = e.data.subarray(0, e.shape[1] * dim);
    for (let r = 0; r < seq / e.shape[1]; r++) row.set(data, r * data.length);
    for (let b = 0; b < batch; b++) out.set(row, (gi * batch + b) * rowSize);
  });
  return new Tensor('float32', out, [embeds.length * batch, seq, dim]);
}
