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
 * Improved PNDM (Zhang & Chen 2023; ComfyUI sample_ipndm, from zju-pi/diff-sampler): an explicit Adams-Bashforth
 * multistep on the probability-flow ODE with fixed equal-step weights up to order 4, warming up from Euler;
 * x = D on the step to sigma 0.
 */
export const sampleIpndm: Sampler = async (denoise, x0, sigmas, opts) => {
  const c = new SamplerContext(denoise, x0, sigmas, opts);
  const maxOrder = IPNDM_WEIGHTS.length;
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
      const weights = IPNDM_WEIGHTS[order - 1];
      const slopes = [d];
      for (let k = 1; k < order; k++) slopes.push(history[history.length - k]);
      const slope = linearCombination(weights, slopes);
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
