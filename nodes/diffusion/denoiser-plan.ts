/**
 * The planning half of the denoiser (ComfyUI comfy/samplers.py get_area_and_mult and calc_cond_batch's
 * grouping): which conditioning entries take part at a sigma, where in the latent each applies and with
 * what weight, and which of them share one U-Net call.
 */
import { Tensor } from '../../runtime/tensor.js';
import type { UNetQueue } from '../../runtime/batching/unet-queue.js';
import type { ModelSampling } from '../../sampling/model-sampling.js';
import { maskWeights } from './cond-mask.js';
import type { CondArea, CondEntry, Conditioning, ControlLink } from '../../sockets/index.js';

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

/** One entry's share of a step: its rows in a U-Net call and their weight in the latent. */
export interface Job {
  readonly entry: CondEntry;
  /** 0 = cond, 1 = uncond */
  readonly kind: 0 | 1;
  readonly region: CondArea;
  /** One region-sized plane per row of a mask (latent row b uses plane b % weightRows); one plane otherwise. */
  readonly weights: Float32Array;
  readonly weightRows: number;
}

/** Cond and uncond rows of one region size: one U-Net request per step. */
export interface Group {
  readonly jobs: Job[];
  readonly embeds: Tensor;
  /** `embeds` kept in the U-Net's worker for the run (or `embeds` itself where it cannot be kept). */
  readonly cond: Promise<Tensor>;
  /** The whole latent's [H, W] (SDXL's default size conditioning is the latent's, not the region's). */
  readonly latentSize: readonly [number, number];
  /** The control chain every entry of the group carries (ComfyUI only batches entries with the same control). */
  readonly control?: ControlLink;
}

export type ActiveAt = (e: CondEntry, sigma: number) => boolean;

const simple = (e: CondEntry) => e.area === undefined && e.timestepRange === undefined && e.mask === undefined;

/**
 * The common case (one cond entry, at most one uncond entry, no areas or ranges), which can go straight
 * to CFG. `negative` is undefined when there is no unconditional pass.
 */
export function isPlain(positive: Conditioning, negative: Conditioning | undefined): boolean {
  return positive.length === 1 && (!negative || negative.length === 1) && simple(positive[0]) && (!negative || simple(negative[0]));
}

/** ComfyUI samplers.py get_area_and_mult: an entry is skipped when sigma > sigma(start) or sigma < sigma(end). */
export function activityBySigma(sampling: ModelSampling, entries: readonly CondEntry[]): ActiveAt {
  const bounds = new Map<CondEntry, { high: number; low: number }>();
  for (const e of entries) {
    if (e.timestepRange) bounds.set(e, { high: sampling.percentToSigma(e.timestepRange.start), low: sampling.percentToSigma(e.timestepRange.end) });
  }
  return (e, sigma) => {
    const b = bounds.get(e);
    return !b || (sigma <= b.high && sigma >= b.low);
  };
}

/** Jobs of the entries of one side that are active at sigma, in entry order. */
function jobsOf(cond: Conditioning, kind: 0 | 1, H: number, W: number, active: (e: CondEntry) => boolean): Job[] {
  const jobs: Job[] = [];
  for (const entry of cond) {
    if (!active(entry)) continue;
    if (entry.mask) {
      const m = maskWeights(entry.mask, H, W, entry.strength, entry.area, (a) => regionOf(a, H, W));
      jobs.push({ entry, kind, region: m.region, weights: m.weights, weightRows: m.rows });
      continue;
    }
    const region = regionOf(entry.area, H, W);
    jobs.push({ entry, kind, region, weights: areaWeights(region, H, W, entry.strength, entry.area !== undefined), weightRows: 1 });
  }
  return jobs;
}

/**
 * Jobs whose regions have one size and whose entries carry the same control (ComfyUI can_concat_cond)
 * can share a U-Net call; groups keep first-seen order.
 */
function bySize(jobs: readonly Job[]): Job[][] {
  const groups = new Map<string, Job[]>();
  const controls = new Map<ControlLink, number>();
  for (const j of jobs) {
    const c = j.entry.control;
    if (c && !controls.has(c)) controls.set(c, controls.size + 1);
    const k = `${j.region.h}x${j.region.w}/${c ? controls.get(c) : 0}`;
    groups.set(k, [...(groups.get(k) ?? []), j]);
  }
  return [...groups.values()];
}

/**
 * The U-Net groups of one sampling run. Regions, area weights and stacked embeddings depend on the
 * latent's shape and on which entries are active (timestep ranges), not on sigma itself: each plan is
 * built once (its embeddings kept in the worker) for every step that shares it.
 */
export interface Planner {
  groupsFor(B: number, H: number, W: number, sigma: number): Group[];
  /** Frees the embeddings kept in the U-Net's worker; plans made afterwards keep nothing. */
  release(): Promise<void>;
}

/** `negative` is undefined when there is no unconditional pass. */
export function makePlanner(unet: UNetQueue, positive: Conditioning, negative: Conditioning | undefined, activeAt: ActiveAt): Planner {
  const kept: Promise<Tensor>[] = [];
  let released = false;
  const plans = new Map<string, Group[]>();
  const groupsFor = (B: number, H: number, W: number, sigma: number): Group[] => {
    const active = (cond: Conditioning) => cond.map((e) => (activeAt(e, sigma) ? '1' : '0')).join('');
    const key = `${B}x${H}x${W}/${active(positive)}/${negative ? active(negative) : ''}`;
    const cached = plans.get(key);
    if (cached) return cached;
    const isActive = (e: CondEntry) => activeAt(e, sigma);
    const jobs = [...jobsOf(positive, 0, H, W, isActive), ...(negative ? jobsOf(negative, 1, H, W, isActive) : [])];
    const groups = bySize(jobs).map((g): Group => {
      const embeds = stackEmbeds(g.map((j) => j.entry.embeds), B);
      // Keeping is an optimisation: where it fails the rows travel with every call, as before.
      const cond = released ? Promise.resolve(embeds) : unet.keep(embeds).catch(() => embeds);
      kept.push(cond);
      return { jobs: g, embeds, cond, control: g[0]!.entry.control, latentSize: [H, W] };
    });
    plans.set(key, groups);
    return groups;
  };
  const release = async (): Promise<void> => {
    released = true;
    const all = await Promise.all(kept.splice(0));
    await Promise.all(all.map((t) => unet.release(t)));
  };
  return { groupsFor, release };
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
