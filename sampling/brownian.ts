/**
 * torchsde's Brownian interval as `torchsde.BrownianTree` configures it (torchsde/_brownian/brownian_interval.py
 * BrownianInterval with halfway_tree=True, derived.py BrownianTree: tol 1e-6, pool_size 24, an LRU cache of 45
 * increments, no Levy area), and k-diffusion's BrownianTreeNoiseSampler over it, as ComfyUI's SDE samplers draw
 * their noise (comfy/k_diffusion/sampling.py).
 *
 * The tree is a binary tree of intervals over [t0, t1] split at their (rounded) halves. The root holds the
 * increment W over [t0, t1]; a child's increment is drawn from the Brownian bridge given its parent's: for the
 * left half, mean (m - s) / (e - s) * W and variance (m - s)(e - m) / (e - s), the right half taking the rest
 * (W - left). Every normal draw is a whole `torch.randn(shape)` from a fresh torch generator whose seed comes
 * from numpy's SeedSequence(entropy, spawn_key=(position, depth)), so the path depends on the entropy alone,
 * not on which intervals were asked for or in what order. Tensor arithmetic is float32, as torch does it
 * (a Python float scalar is rounded to float32 before a float32 tensor op).
 */
import { TorchGenerator, type Seed } from './noise.js';
import { SeedSequence } from './seed-sequence.js';

const f = Math.fround;

/** Thrown for an invalid tree (t0 > t1, a bad tolerance) or a query that cannot be located. */
export class BrownianTreeError extends Error {
  override readonly name = 'BrownianTreeError';
}

/**
 * Python's round(x, ndigits) for a float: the exact binary value of x scaled by 10^ndigits, rounded half to even,
 * then the nearest double to that decimal (CPython's double_round via dtoa).
 */
export function pyRound(x: number, ndigits: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const bits = view.getBigUint64(0);
  const biased = Number(bits >> 52n);
  const frac = bits & ((1n << 52n) - 1n);
  // |x| = mant * 2^exp exactly.
  const mant = biased === 0 ? frac : frac | (1n << 52n);
  const exp = (biased === 0 ? 1 : biased) - 1075;
  const scale = 10n ** BigInt(ndigits);
  let n: bigint;
  if (exp >= 0) n = (mant << BigInt(exp)) * scale;
  else {
    const num = mant * scale;
    const den = 1n << BigInt(-exp);
    n = num / den;
    const twice = 2n * (num - n * den);
    if (twice > den || (twice === den && (n & 1n) === 1n)) n += 1n;
  }
  const v = Number(`${n}e-${ndigits}`);
  return x < 0 ? -v : v;
}

/** One node of the tree: [start, end], split at `midway` into two children once asked for something inside. */
class Interval {
  midway: number | null = null;
  left: Interval | null = null;
  right: Interval | null = null;
  /** The seed of the torch generator whose randn draws the children's bridge noise (torchsde's _W_seed). */
  wSeed = 0;

  constructor(
    readonly start: number,
    readonly end: number,
    readonly parent: Interval | null,
    readonly isLeft: boolean,
    /** torchsde's _spawn_key (2 * parent's + 0 for a left, 1 for a right child; 0 at the root) and _depth. */
    readonly spawnKey: bigint,
    readonly depth: number,
  ) {}
}

/** torchsde's _LRUDict: at most `max` entries, the oldest insertion (a re-insertion refreshes) evicted first. */
class LruCache<K, V> {
  private readonly map = new Map<K, V>();

  constructor(private readonly max: number) {}

  get(k: K): V | undefined {
    return this.map.get(k);
  }

  set(k: K, v: V): void {
    if (this.max <= 0) return;
    if (this.map.has(k)) this.map.delete(k);
    else if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value as K);
    this.map.set(k, v);
  }

  get size(): number {
    return this.map.size;
  }
}

export interface BrownianTreeOptions {
  t0: number;
  t1: number;
  /** Shape of each increment (the latent's, batch included). */
  shape: readonly number[];
  /** numpy SeedSequence entropy: ComfyUI passes the sampler seed. */
  entropy: bigint | number;
  /** Resolution of the query times (torchsde BrownianTree's default 1e-6: times are rounded to 6 decimals). */
  tol?: number;
  /** SeedSequence pool size (BrownianTree's default 24). */
  poolSize?: number;
  /** Increments kept in the LRU cache (BrownianInterval's default 45). */
  cacheSize?: number;
}

/** torchsde.BrownianTree(t0, w0=zeros(shape), t1, entropy): increments W(tb) - W(ta) of one Brownian path. */
export class BrownianTree {
  readonly shape: readonly number[];
  readonly start: number;
  readonly end: number;
  private readonly size: number;
  private readonly entropy: bigint;
  private readonly poolSize: number;
  private readonly ndigits: number | null;
  private readonly root: Interval;
  private readonly rootW: Float32Array;
  private readonly cache: LruCache<Interval, Float32Array>;
  /** Number of torch.randn draws made so far (to see the cache at work). */
  draws = 0;

  constructor(opts: BrownianTreeOptions) {
    const { t0, t1 } = opts;
    if (!(t0 <= t1)) throw new BrownianTreeError(`initial time ${t0} should be less than terminal time ${t1}`);
    const tol = opts.tol ?? 1e-6;
    if (!(tol > 0)) throw new BrownianTreeError('tol should be positive');
    this.ndigits = -Math.trunc(Math.log10(tol));
    this.shape = [...opts.shape];
    this.size = this.shape.reduce((a, b) => a * b, 1);
    this.entropy = BigInt(opts.entropy);
    this.poolSize = opts.poolSize ?? 24;
    this.cache = new LruCache(opts.cacheSize ?? 45);
    this.start = this.round(t0);
    this.end = this.round(t1);
    this.root = new Interval(this.start, this.end, null, false, 0n, 0);
    const [wSeed] = new SeedSequence(this.entropy, { poolSize: this.poolSize }).generateState(3);
    // NOTE: torchsde also draws the root's space-time Levy area H from the second word; W never depends on it.
    const z = this.randn(wSeed);
    const k = f(Math.sqrt(t1 - t0));
    this.rootW = z.map((v) => f(v * k));
  }

  private round(x: number): number {
    return this.ndigits === null ? x : pyRound(x, this.ndigits);
  }

  private randn(seed: number): Float32Array {
    this.draws++;
    return new TorchGenerator(seed).randn(this.shape).data;
  }

  /** W(tb) - W(ta), as BrownianTree.__call__(ta, tb): times are clamped to [t0, t1] and rounded to the tolerance. */
  increment(ta: number, tb: number): Float32Array {
    ta = Math.min(Math.max(ta, this.start), this.end);
    tb = Math.min(Math.max(tb, this.start), this.end);
    if (ta > tb) throw new BrownianTreeError(`query times ta=${ta} and tb=${tb} must respect ta <= tb`);
    const a = this.round(ta);
    const b = this.round(tb);
    // NOTE: torchsde returns zeros only for ta == tb; for times apart by less than the tolerance it splits down to
    // a degenerate interval. Zero, the limit of the increment, is returned here instead.
    if (a === b) return new Float32Array(this.size);
    const parts: Interval[] = [];
    this.locate(this.root, a, b, parts, 0);
    let w = this.incrementOf(parts[0]);
    for (let p = 1; p < parts.length; p++) {
      const wi = this.incrementOf(parts[p]);
      const sum = new Float32Array(this.size);
      for (let k = 0; k < sum.length; k++) sum[k] = f(w[k] + wi[k]);
      w = sum;
    }
    return parts.length === 1 ? w.slice() : w;
  }

  /**
   * The existing (or newly split) intervals that make up [ta, tb], left to right (torchsde _loc_inner). With halfway
   * splitting the tree below a node is fixed, so searching from the root finds what torchsde finds from its last
   * queried interval.
   */
  private locate(node: Interval, ta: number, tb: number, out: Interval[], depth: number): void {
    if (depth > 400) throw new BrownianTreeError(`cannot locate [${ta}, ${tb}] in the tree`);
    if (ta === node.start && tb === node.end) {
      out.push(node);
      return;
    }
    if (node.midway === null) this.split(node, ta === node.start ? tb : ta, depth);
    const mid = node.midway!;
    if (tb <= mid) this.locate(node.left!, ta, tb, out, depth + 1);
    else if (ta >= mid) this.locate(node.right!, ta, tb, out, depth + 1);
    else {
      this.locate(node.left!, ta, mid, out, depth + 1);
      this.locate(node.right!, mid, tb, out, depth + 1);
    }
  }

  /** torchsde _split with halfway_tree: split at the rounded half, then split the child holding `at` until `at` is a split point. */
  private split(node: Interval, at: number, depth: number): void {
    if (depth > 400) throw new BrownianTreeError(`cannot split the tree at ${at}`);
    this.splitExact(node);
    const mid = node.midway!;
    if (at > mid) this.split(node.right!, at, depth + 1);
    else if (at < mid) this.split(node.left!, at, depth + 1);
  }

  /** torchsde _split_exact: two children and the node's seeds from SeedSequence(entropy, spawn_key=(key, depth)). */
  private splitExact(node: Interval): void {
    const mid = this.round(0.5 * (node.end + node.start));
    node.midway = mid;
    const [wSeed] = new SeedSequence(this.entropy, { poolSize: this.poolSize, spawnKey: [node.spawnKey, node.depth] }).generateState(4);
    node.wSeed = wSeed;
    node.left = new Interval(node.start, mid, node, true, 2n * node.spawnKey, node.depth + 1);
    node.right = new Interval(mid, node.end, node, false, 2n * node.spawnKey + 1n, node.depth + 1);
  }

  /** torchsde _increment_and_space_time_levy_area without Levy area: the Brownian bridge from the parent's increment. */
  private incrementOf(node: Interval): Float32Array {
    if (node === this.root) return this.rootW;
    const hit = this.cache.get(node);
    if (hit) return hit;
    const parent = node.parent!;
    const w = this.incrementOf(parent);
    const mid = parent.midway!;
    const hReciprocal = 1 / (parent.end - parent.start);
    const leftDiff = mid - parent.start;
    const rightDiff = parent.end - mid;
    const a = f(leftDiff);
    const b = f(hReciprocal);
    const sd = f(Math.sqrt(leftDiff * rightDiff * hReciprocal));
    const z = this.randn(parent.wSeed);
    const out = new Float32Array(this.size);
    for (let k = 0; k < out.length; k++) {
      const mean = f(f(a * w[k]) * b);
      const left = f(mean + f(sd * z[k]));
      out[k] = node.isLeft ? left : f(w[k] - left);
    }
    this.cache.set(node, out);
    return out;
  }
}

/**
 * k-diffusion's BrownianTreeNoiseSampler (ComfyUI's, with one seed: one tree for the whole batch): a tree over
 * [sigma_min, sigma_max] with the seed as entropy; the draw for a step sigma -> sigmaNext is the increment between
 * them, signed by direction, over sqrt(|sigmaNext - sigma|), a standard normal. ComfyUI's sigmas are float32
 * tensors, so sigmas are rounded to float32 on the way in.
 */
export class BrownianTreeNoiseSampler {
  readonly tree: BrownianTree;

  constructor(shape: readonly number[], sigmaMin: number, sigmaMax: number, seed: Seed) {
    const lo = f(sigmaMin);
    const hi = f(sigmaMax);
    // NOTE: BatchedBrownianTree sorts the ends and remembers the sign (always +1 for sigma_min < sigma_max).
    this.sign = lo < hi ? 1 : -1;
    this.tree = new BrownianTree({ t0: Math.min(lo, hi), t1: Math.max(lo, hi), shape, entropy: seed });
  }

  private readonly sign: number;

  sample(sigma: number, sigmaNext: number): Float32Array {
    const s0 = f(sigma);
    const s1 = f(sigmaNext);
    const sign = s0 < s1 ? 1 : -1;
    const w = this.tree.increment(Math.min(s0, s1), Math.max(s0, s1));
    const scale = f(Math.sqrt(Math.abs(f(s1 - s0))));
    const s = this.sign * sign;
    const out = new Float32Array(w.length);
    for (let k = 0; k < out.length; k++) out[k] = f((s * w[k]) / scale);
    return out;
  }
}
