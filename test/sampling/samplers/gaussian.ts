import { Tensor } from '../../../runtime/tensor.js';
import type { Denoiser } from '../../../sampling/samplers/index.js';

/** The exact denoiser of a per-element Gaussian target N(mu, s^2): D = mu + s^2 / (s^2 + sigma^2) (x - mu). */
export function gaussianDenoiser(mu: number, s: number, calls?: { count: number }): Denoiser {
  return async (x, sigma) => {
    if (calls) calls.count++;
    const k = (s * s) / (s * s + sigma * sigma);
    return new Tensor('float32', x.data.map((v) => mu + k * (v - mu)), x.shape);
  };
}

/** Exact probability-flow ODE endpoint at sigma 0 from x at sigma0. */
export function exactEndpoint(x: Tensor, mu: number, s: number, sigma0: number): Float64Array {
  const k = s / Math.sqrt(s * s + sigma0 * sigma0);
  return Float64Array.from(x.data, (v) => mu + (v - mu) * k);
}

export function maxAbsError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export function meanVar(a: ArrayLike<number>): { mean: number; variance: number } {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  const mean = s / a.length;
  let v = 0;
  for (let i = 0; i < a.length; i++) v += (a[i] - mean) ** 2;
  return { mean, variance: v / a.length };
}
