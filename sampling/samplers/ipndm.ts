import { SamplerContext } from './common.js';
import type { Sampler } from './types.js';
import { linearCombination, toD } from './vector.js';

/** Adams-Bashforth weights for orders 1..4 on equal steps: newest slope first. */
const IPNDM_WEIGHTS: readonly (readonly number[])[] = [
  [1],
  [3 / 2, -1 / 2],
  [23 / 12, -16 / 12, 5 / 12],
  [55 / 24, -59 / 24, 37 / 24, -9 / 24],
];

/**
 * The iPNDM loop (Zhang & Chen 2023; ComfyUI sample_ipndm / sample_ipndm_v, from zju-pi/diff-sampler): an explicit
 * Adams-Bashforth multistep on the probability-flow ODE up to order 4, warming up from Euler, whose newest-first
 * slope weights for step i come from `weightsOf`; x = D on the step to sigma 0.
 */
function adamsBashforth(weightsOf: (sigmas: Float64Array, i: number, order: number) => readonly number[]): Sampler {
  const maxOrder = 4;
  return async (denoise, x0, sigmas, opts) => {
    const c = new SamplerContext(denoise, x0, sigmas, opts);
    let x = x0.data;
    /** Past slopes, newest last. */
    const history: Float32Array[] = [];
    for (let i = 0; i < c.total; i++) {
      const s = sigmas[i];
      const sNext = sigmas[i + 1];
      const denoised = await c.denoise(x, s);
      await c.step(i, x, denoised);
      const d = toD(x, denoised, s);
      if (sNext === 0) {
        x = denoised.slice();
      } else {
        const order = Math.min(maxOrder, i + 1);
        const slopes = [d];
        for (let k = 1; k < order; k++) slopes.push(history[history.length - k]);
        const slope = linearCombination(weightsOf(sigmas, i, order), slopes);
        const dt = sNext - s;
        const next = new Float32Array(x.length);
        for (let k = 0; k < x.length; k++) next[k] = x[k] + dt * slope[k];
        x = next;
      }
      history.push(d);
      if (history.length > maxOrder - 1) history.shift();
    }
    return c.tensor(x);
  };
}

/** Improved PNDM (ComfyUI sample_ipndm): fixed equal-step weights. */
export const sampleIpndm: Sampler = adamsBashforth((_sigmas, _i, order) => IPNDM_WEIGHTS[order - 1]);

/**
 * The weights of newest-first slopes for ipndm_v's step i (zju-pi/diff-sampler solvers.py, as ComfyUI
 * sample_ipndm_v): variable-step Adams-Bashforth coefficients from the actual sigma gaps, up to order 4.
 */
function ipndmVWeights(sigmas: Float64Array, i: number, order: number): number[] {
  const hn = sigmas[i + 1] - sigmas[i];
  if (order === 1) return [1];
  const hn1 = sigmas[i] - sigmas[i - 1];
  if (order === 2) return [(2 + hn / hn1) / 2, -(hn / hn1) / 2];
  const hn2 = sigmas[i - 1] - sigmas[i - 2];
  const t1 = (1 - ((hn / (3 * (hn + hn1))) * (hn * (hn + hn1))) / (hn1 * (hn1 + hn2))) / 2;
  if (order === 3) {
    return [(2 + hn / hn1) / 2 + t1, -(hn / hn1) / 2 - (1 + hn1 / hn2) * t1, (t1 * hn1) / hn2];
  }
  const hn3 = sigmas[i - 2] - sigmas[i - 3];
  const t2 = ((1 - hn / (3 * (hn + hn1))) / 2 + ((1 - hn / (2 * (hn + hn1))) * hn) / (6 * (hn + hn1 + hn2)))
    * ((hn * (hn + hn1) * (hn + hn1 + hn2)) / (hn1 * (hn1 + hn2) * (hn1 + hn2 + hn3)));
  const q = (hn1 * (hn1 + hn2)) / (hn2 * (hn2 + hn3));
  return [
    (2 + hn / hn1) / 2 + t1 + t2,
    -(hn / hn1) / 2 - (1 + hn1 / hn2) * t1 - (1 + hn1 / hn2 + q) * t2,
    (t1 * hn1) / hn2 + (hn1 / hn2 + q * (1 + hn2 / hn3)) * t2,
    ((-t2 * q) * hn1) / hn2,
  ];
}

/**
 * iPNDM with variable steps (ComfyUI sample_ipndm_v): the weights come from the actual sigma gaps, so unequal
 * schedules such as karras keep the order.
 */
export const sampleIpndmV: Sampler = adamsBashforth(ipndmVWeights);
