/**
 * Gradient estimation (Permenter & Yuan 2024, "Interpreting and Improving Diffusion Models from an Optimization
 * Perspective", openreview o2ND9v0CeK; ComfyUI sample_gradient_estimation, ge_gamma = 2): Euler steps whose slope is
 * extrapolated with the previous step's, d + (gamma - 1)(d - d_prev); x = D on the step to 0. The _cfg_pp form takes
 * the slope from the unconditional estimate and steps from D.
 */
import { SamplerContext } from './common.js';
import { usingUncond } from './cfg-pp.js';
import type { Sampler } from './types.js';

const GE_GAMMA = 2;

function gradientEstimation(cfgPp: boolean): Sampler {
  const sampler: Sampler = async (denoise, x0, sigmas, opts) => {
    const c = new SamplerContext(denoise, x0, sigmas, opts);
    let x = x0.data;
    let oldD: Float32Array | null = null;
    for (let i = 0; i < c.total; i++) {
      const s = sigmas[i];
      const sNext = sigmas[i + 1];
      const { denoised, uncond } = cfgPp ? await c.denoiseWithUncond(x, s) : { denoised: await c.denoise(x, s), uncond: undefined };
      const from = uncond ?? denoised;
      const d = new Float32Array(x.length);
      for (let k = 0; k < x.length; k++) d[k] = (x[k] - from[k]) / s;
      await c.step(i, x, denoised);
      const dt = sNext - s;
      let next: Float32Array;
      if (sNext === 0) {
        next = denoised.slice();
      } else {
        next = new Float32Array(x.length);
        if (cfgPp) for (let k = 0; k < x.length; k++) next[k] = denoised[k] + d[k] * sNext;
        else for (let k = 0; k < x.length; k++) next[k] = x[k] + d[k] * dt;
        if (oldD !== null) for (let k = 0; k < x.length; k++) next[k] += (GE_GAMMA - 1) * (d[k] - oldD[k]) * dt;
      }
      oldD = d;
      x = next;
    }
    return c.tensor(x);
  };
  return cfgPp ? usingUncond(sampler) : sampler;
}

export const sampleGradientEstimation: Sampler = gradientEstimation(false);
export const sampleGradientEstimationCfgPp: Sampler = gradientEstimation(true);
