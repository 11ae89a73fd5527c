import { SamplerContext } from './common.js';
import type { Sampler } from './types.js';

/** Latent Consistency Model multistep sampling (Luo et al. 2023; ComfyUI sample_lcm): x = D, re-noised to sigma_next. */
export const sampleLcm: Sampler = async (denoise, x0, sigmas, opts) => {
  const c = new SamplerContext(denoise, x0, sigmas, opts);
  let x = x0.data;
  for (let i = 0; i < c.total; i++) {
    const denoised = await c.denoise(x, sigmas[i]);
    await c.step(i, x, denoised);
    const sNext = sigmas[i + 1];
    const next = denoised.slice();
    if (sNext > 0) c.addAncestralNoise(next, sNext);
    x = next;
  }
  return c.tensor(x);
};
