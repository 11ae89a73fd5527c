import { SamplerContext } from './common.js';
import type { Sampler } from './types.js';

/**
 * DDPM ancestral sampling (Ho et al. 2020, Algorithm 2; ComfyUI sample_ddpm / DDPMSampler_step): the posterior mean
 * of the variance-preserving chain between alphabar = 1 / (sigma^2 + 1) and the next one, plus posterior noise from
 * the ancestral noise stream (SamplerContext.ancestralNoise), rescaled back to k-diffusion's x = x_vp * sqrt(1 + sigma^2).
 */
export const sampleDdpm: Sampler = async (denoise, x0, sigmas, opts) => {
  const c = new SamplerContext(denoise, x0, sigmas, opts);
  let x = x0.data;
  for (let i = 0; i < c.total; i++) {
    const s = sigmas[i];
    const sNext = sigmas[i + 1];
    const denoised = await c.denoise(x, s);
    await c.step(i, x, denoised);
    const abar = 1 / (s * s + 1);
    const abarPrev = 1 / (sNext * sNext + 1);
    const alpha = abar / abarPrev;
    const inVp = 1 / Math.sqrt(1 + s * s);
    const meanScale = Math.sqrt(1 / alpha);
    const epsScale = (1 - alpha) / Math.sqrt(1 - abar);
    const outScale = sNext !== 0 ? Math.sqrt(1 + sNext * sNext) : 1;
    const next = new Float32Array(x.length);
    for (let k = 0; k < x.length; k++) {
      const eps = (x[k] - denoised[k]) / s;
      next[k] = meanScale * (x[k] * inVp - epsScale * eps);
    }
    if (sNext > 0) c.addAncestralNoise(next, Math.sqrt(((1 - alpha) * (1 - abarPrev)) / (1 - abar)));
    if (outScale !== 1) for (let k = 0; k < x.length; k++) next[k] *= outScale;
    x = next;
  }
  return c.tensor(x);
};
