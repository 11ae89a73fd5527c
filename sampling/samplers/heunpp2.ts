import { SamplerContext } from './common.js';
import type { Sampler } from './types.js';
import { axpby, linearCombination, toD } from './vector.js';

/**
 * Heun++ (ComfyUI sample_heunpp2, from Carzit/sd-webui-samplers-scheduler): each step averages the slopes at
 * sigma_i, sigma_{i+1} and sigma_{i+2} (found by chained Euler steps) with weights sigma_{i+1} / (3 sigma_0) and
 * sigma_{i+2} / (3 sigma_0); two slopes with weight sigma_{i+1} / (2 sigma_0) on the penultimate step; Euler on the
 * last. "Last" means the schedule's final sigma, as in ComfyUI, so a schedule that stops above 0 works too.
 */
export const sampleHeunpp2: Sampler = async (denoise, x0, sigmas, opts) => {
  const c = new SamplerContext(denoise, x0, sigmas, opts);
  const sEnd = sigmas[sigmas.length - 1];
  let x = x0.data;
  for (let i = 0; i < c.total; i++) {
    const s = sigmas[i];
    const sNext = sigmas[i + 1];
    const denoised = await c.denoise(x, s);
    const d = toD(x, denoised, s);
    await c.step(i, x, denoised);
    const dt = sNext - s;
    if (sNext === sEnd) {
      x = axpby(1, x, dt, d);
      continue;
    }
    const x2 = axpby(1, x, dt, d);
    const d2 = toD(x2, await c.denoise(x2, sNext), sNext);
    const sNext2 = sigmas[i + 2];
    let slope: Float32Array;
    if (sNext2 === sEnd) {
      const w2 = sNext / (2 * sigmas[0]);
      slope = axpby(1 - w2, d, w2, d2);
    } else {
      const x3 = axpby(1, x2, sNext2 - sNext, d2);
      const d3 = toD(x3, await c.denoise(x3, sNext2), sNext2);
      const w2 = sNext / (3 * sigmas[0]);
      const w3 = sNext2 / (3 * sigmas[0]);
      slope = linearCombination([1 - w2 - w3, w2, w3], [d, d2, d3]);
    }
    x = axpby(1, x, dt, slope);
  }
  return c.tensor(x);
};
