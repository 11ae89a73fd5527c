import { describe, expect, it } from 'vitest';
import { BrownianTree, BrownianTreeError, BrownianTreeNoiseSampler, pyRound } from '../../sampling/brownian.js';
import { TorchGenerator } from '../../sampling/noise.js';
import { SeedSequence } from '../../sampling/seed-sequence.js';

const f = Math.fround;
const randn = (seed: number, shape: number[]): Float32Array => new TorchGenerator(seed).randn(shape).data;
const arr = (a: Float32Array): number[] => Array.from(a);

function meanVar(a: ArrayLike<number>): { mean: number; variance: number } {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  const mean = s / a.length;
  let v = 0;
  for (let i = 0; i < a.length; i++) v += (a[i] - mean) ** 2;
  return { mean, variance: v / a.length };
}

function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const ma = meanVar(a);
  const mb = meanVar(b);
  let c = 0;
  for (let i = 0; i < a.length; i++) c += (a[i] - ma.mean) * (b[i] - mb.mean);
  return c / a.length / Math.sqrt(ma.variance * mb.variance);
}

describe('pyRound (Python round(x, ndigits))', () => {
  it('rounds the exact binary value half to even, as CPython does', () => {
    // Python 3.11: round(0.0078125, 6) == 0.007812 (an exact tie, to even), round(0.0234375, 6) == 0.023438,
    // round(2.675, 2) == 2.67 (2.675 is stored below the tie), round(5e-7, 6) == 0.0, round(1.5e-6, 6) == 2e-06.
    expect(pyRound(0.0078125, 6)).toBe(0.007812);
    expect(pyRound(-0.0078125, 6)).toBe(-0.007812);
    expect(pyRound(0.0234375, 6)).toBe(0.023438);
    expect(pyRound(2.675, 2)).toBe(2.67);
    expect(pyRound(5e-7, 6)).toBe(0);
    expect(pyRound(1.5e-6, 6)).toBe(2e-6);
    expect(pyRound(0.1 + 0.2, 6)).toBe(0.3);
    expect(pyRound(f(14.614642), 6)).toBe(14.614642);
    expect(pyRound(14.6146412, 6)).toBe(14.614641);
  });
});

describe('BrownianTree values, derived by hand from torchsde\'s algorithm', () => {
  // Tree over [0, 1], entropy 42, shape [3]; torch.randn below 16 elements is the scalar path, checked against PyTorch
  // in noise.test.ts. Seeds from numpy.random.SeedSequence (seed-sequence.test.ts checks our port against numpy):
  //   root: SeedSequence(42, pool_size=24).generate_state(3)[0]                  = 387750627
  //   root split (spawn_key (0, 0)): SeedSequence(42, pool_size=24, spawn_key=(0, 0)).generate_state(4)[0] = 2102017995
  //   [0, 0.5] split (spawn_key (2 * 0 + 0, 1)) = (0, 1): ...[0]                    = 2358011247
  //   [0.5, 1] split (spawn_key (2 * 0 + 1, 1)) = (1, 1): ...[0]                    = 1058881542
  // The root increment is W = randn(387750627) * sqrt(1 - 0). A child of [s, e] split at m gets, from the parent's
  // W and Z = randn(parent's split seed): left = (m - s) * W * (1 / (e - s)) + sqrt((m - s)(e - m) / (e - s)) * Z,
  // right = W - left, every product and sum rounded to float32 (the Python floats rounded to float32 first).
  const seeds = { root: 387750627, rootSplit: 2102017995, leftSplit: 2358011247, rightSplit: 1058881542 };
  const W = randn(seeds.root, [3]);
  const Z0 = randn(seeds.rootSplit, [3]);
  // [0, 0.5]: m - s = 0.5, 1 / (e - s) = 1, sqrt(0.5 * 0.5 / 1) = 0.5; all three are exact, so W_L = 0.5 W + 0.5 Z0.
  const WL = W.map((w, k) => f(f(0.5 * w) + f(0.5 * Z0[k])));
  const WR = W.map((w, k) => f(w - WL[k]));
  // [0.25, 0.5] is the right half of [0, 0.5]: 1 / (e - s) = 2, m - s = 0.25, sd = sqrt(0.25 * 0.25 * 2) = sqrt(0.125).
  const sd = f(Math.sqrt(0.125));
  const ZL = randn(seeds.leftSplit, [3]);
  const WLl = WL.map((w, k) => f(f(f(0.25 * w) * 2) + f(sd * ZL[k])));
  const WLr = WL.map((w, k) => f(w - WLl[k]));
  // [0.5, 0.75] is the left half of [0.5, 1], the same way from W_R and the right child's seed.
  const ZR = randn(seeds.rightSplit, [3]);
  const WRl = WR.map((w, k) => f(f(f(0.25 * w) * 2) + f(sd * ZR[k])));
  // [0.25, 0.75] is not one node: it is [0.25, 0.5] + [0.5, 0.75], added in float32.
  const middle = WLr.map((w, k) => f(w + WRl[k]));

  it('the seeds are those numpy gives', () => {
    expect(new SeedSequence(42, { poolSize: 24 }).generateState(3)[0]).toBe(seeds.root);
    expect(new SeedSequence(42, { poolSize: 24, spawnKey: [0, 0] }).generateState(4)[0]).toBe(seeds.rootSplit);
    expect(new SeedSequence(42, { poolSize: 24, spawnKey: [0, 1] }).generateState(4)[0]).toBe(seeds.leftSplit);
    expect(new SeedSequence(42, { poolSize: 24, spawnKey: [1, 1] }).generateState(4)[0]).toBe(seeds.rightSplit);
  });

  it('gives the derived increments', () => {
    const tree = new BrownianTree({ t0: 0, t1: 1, shape: [3], entropy: 42 });
    expect(arr(tree.increment(0, 1))).toEqual(arr(W));
    expect(arr(tree.increment(0, 0.5))).toEqual(arr(WL));
    expect(arr(tree.increment(0.5, 1))).toEqual(arr(WR));
    expect(arr(tree.increment(0.25, 0.5))).toEqual(arr(WLr));
    expect(arr(tree.increment(0.5, 0.75))).toEqual(arr(WRl));
    expect(arr(tree.increment(0.25, 0.75))).toEqual(arr(middle));
  });

  it('equals what torchsde itself returns for these queries', () => {
    // torchsde's brownian_interval.py run as BrownianTree configures it (halfway_tree, tol 1e-6, pool_size 24), with
    // numpy standing in for torch's scalar randn path; printed with Python's float repr.
    const tree = new BrownianTree({ t0: 0, t1: 1, shape: [3], entropy: 42 });
    expect(arr(tree.increment(0, 1))).toEqual([-0.45700693130493164, -1.3621439933776855, 0.5578830242156982]);
    expect(arr(tree.increment(0, 0.5))).toEqual([-0.8376433253288269, -0.31398525834083557, -0.7907861471176147]);
    expect(arr(tree.increment(0.25, 0.75))).toEqual([0.7284054756164551, -0.44896426796913147, 0.45861369371414185]);
  });

  it('scales the root by sqrt(t1 - t0) in float32, and rounds the ends and the queries to 6 decimals', () => {
    const tree = new BrownianTree({ t0: f(0.0291675), t1: f(14.614642), shape: [2], entropy: 7 });
    expect(tree.start).toBe(0.029167);
    expect(tree.end).toBe(14.614642);
    const z = randn(new SeedSequence(7, { poolSize: 24 }).generateState(3)[0], [2]);
    const k = f(Math.sqrt(f(14.614642) - f(0.0291675)));
    // Queries beyond the ends are clamped to them, as torchsde does (with a warning there).
    expect(arr(tree.increment(0, 20))).toEqual(arr(z.map((v) => f(v * k))));
    expect(arr(tree.increment(1 / 3, 2))).toEqual(arr(tree.increment(0.33333334, 2.0000002)));
  });
});

describe('BrownianTree structure', () => {
  const shape = [1, 4, 8, 8];
  const queries: [number, number][] = [[0.1, 0.9], [2.5, 3.1], [0.1, 14], [7.77, 7.7701], [0.05, 0.06], [3.1, 9.2], [0.03, 14.6]];

  it('depends on the entropy only, not on which intervals were asked before or in what order', () => {
    const a = new BrownianTree({ t0: 0.03, t1: 14.6, shape, entropy: 99 });
    const first = queries.map(([s, t]) => arr(a.increment(s, t)));
    const b = new BrownianTree({ t0: 0.03, t1: 14.6, shape, entropy: 99 });
    b.increment(5, 6);
    b.increment(0.2, 0.21);
    const reversed = [...queries].reverse().map(([s, t]) => arr(b.increment(s, t))).reverse();
    expect(reversed).toEqual(first);
    const other = new BrownianTree({ t0: 0.03, t1: 14.6, shape, entropy: 100 });
    expect(arr(other.increment(0.1, 0.9))).not.toEqual(first[0]);
  });

  it('gives the same value when a sub-interval is asked twice: from the cache, and recomputed after eviction', () => {
    const tree = new BrownianTree({ t0: 0, t1: 1, shape, entropy: 5 });
    const once = arr(tree.increment(0.3, 0.4));
    const draws = tree.draws;
    expect(arr(tree.increment(0.3, 0.4))).toEqual(once);
    expect(tree.draws).toBe(draws);
    // More than 45 other nodes push [0.3, 0.4]'s pieces out of the LRU cache; they are redrawn from the same seeds.
    for (let i = 0; i < 60; i++) tree.increment(0.5 + i / 200, 0.5 + (i + 0.5) / 200);
    const before = tree.draws;
    expect(arr(tree.increment(0.3, 0.4))).toEqual(once);
    expect(tree.draws).toBeGreaterThan(before);
  });

  it('adds up: W(a, c) = W(a, b) + W(b, c) to float32 rounding', () => {
    const tree = new BrownianTree({ t0: 0, t1: 1, shape, entropy: 11 });
    const ac = tree.increment(0.2, 0.7);
    const ab = tree.increment(0.2, 0.45);
    const bc = tree.increment(0.45, 0.7);
    for (let k = 0; k < ac.length; k++) expect(Math.abs(ac[k] - (ab[k] + bc[k]))).toBeLessThan(1e-5);
  });

  it('has Brownian statistics: increments N(0, t - s), independent over disjoint intervals', () => {
    const big = [1, 4, 64, 64];
    const tree = new BrownianTree({ t0: 0.03, t1: 14.6, shape: big, entropy: 2024 });
    for (const [s, t] of [[0.03, 14.6], [1, 3], [0.5, 0.52], [7.1, 7.1001]] as const) {
      const { mean, variance } = meanVar(tree.increment(s, t));
      const v = pyRound(t, 6) - pyRound(s, 6);
      expect(Math.abs(mean)).toBeLessThan(4 * Math.sqrt(v / 16384));
      expect(Math.abs(variance / v - 1)).toBeLessThan(0.05);
    }
    expect(Math.abs(correlation(tree.increment(1, 2), tree.increment(2, 3)))).toBeLessThan(0.04);
    expect(Math.abs(correlation(tree.increment(0.5, 0.6), tree.increment(8, 9)))).toBeLessThan(0.04);
  });

  it('has the Brownian bridge variance: given W over [s, e], the part over [s, m] has variance (m - s)(e - m) / (e - s)', () => {
    const big = [1, 4, 64, 64];
    // Over [0, 1] the first split is at 0.5: W(0, 0.5) - W(0, 1) / 2 is the bridge noise, variance 1/4.
    const tree = new BrownianTree({ t0: 0, t1: 1, shape: big, entropy: 3 });
    const whole = tree.increment(0, 1);
    const half = tree.increment(0, 0.5);
    const dev = half.map((v, k) => v - whole[k] / 2);
    expect(Math.abs(meanVar(dev).variance / 0.25 - 1)).toBeLessThan(0.05);
    expect(Math.abs(correlation(dev, whole))).toBeLessThan(0.04);
    // One level down, [0, 0.25] within [0, 0.5]: variance 0.25 * 0.25 / 0.5 = 0.125.
    const quarter = tree.increment(0, 0.25);
    const dev2 = quarter.map((v, k) => v - half[k] / 2);
    expect(Math.abs(meanVar(dev2).variance / 0.125 - 1)).toBeLessThan(0.05);
  });

  it('is zero over an empty interval and refuses reversed times', () => {
    const tree = new BrownianTree({ t0: 0, t1: 1, shape: [4], entropy: 1 });
    expect(arr(tree.increment(0.5, 0.5))).toEqual([0, 0, 0, 0]);
    expect(() => tree.increment(0.6, 0.5)).toThrow(BrownianTreeError);
    expect(() => new BrownianTree({ t0: 1, t1: 0, shape: [4], entropy: 1 })).toThrow(BrownianTreeError);
  });
});

describe('BrownianTreeNoiseSampler (k-diffusion / ComfyUI)', () => {
  it('is the increment from sigma to sigma_next over sqrt(|sigma_next - sigma|), signed by direction', () => {
    const shape = [1, 4, 4, 4];
    const ns = new BrownianTreeNoiseSampler(shape, 0.0291675, 14.614642, 123n);
    const tree = new BrownianTree({ t0: f(0.0291675), t1: f(14.614642), shape, entropy: 123n });
    const [s, sNext] = [f(9.5), f(6.25)];
    const w = tree.increment(sNext, s);
    const scale = f(Math.sqrt(f(s - sNext)));
    expect(arr(ns.sample(9.5, 6.25))).toEqual(arr(w.map((v) => f(-v / scale))));
    expect(arr(ns.sample(6.25, 9.5))).toEqual(arr(w.map((v) => f(v / scale))));
  });

  it('draws standard normals that are correlated between overlapping steps as the Brownian path makes them', () => {
    const ns = new BrownianTreeNoiseSampler([1, 4, 64, 64], 0.03, 14.6, 9n);
    const a = ns.sample(10, 5);
    const { mean, variance } = meanVar(a);
    expect(Math.abs(mean)).toBeLessThan(0.04);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
    // [7.5, 10] is half of [5, 10]: correlation sqrt(2.5 / 5) ~ 0.71.
    expect(Math.abs(correlation(a, ns.sample(10, 7.5)) - Math.SQRT1_2)).toBeLessThan(0.03);
    expect(Math.abs(correlation(a, ns.sample(5, 2)))).toBeLessThan(0.04);
  });
});
