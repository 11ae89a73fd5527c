import { SamplerContext, ancestralStep } from './common.js';
import type { Sampler } from './types.js';
import { axpby, toD } from './vector.js';

/** Euler's method on the probability-flow ODE (Algorithm 2 of Karras et al. 2022 without churn; k-diffusion sample_euler). */
export const sampleEuler: Sampler = async (denoise, x0, sigmas, opts) => {
  const c = new SamplerContext(denoise, x0, sigmas, opts);
  let x = x0.data;
  for (let i = 0; i < c.total; i++) {
    const s = sigmas[i];
    const denoised = await c.denoise(x, s);
    await c.step(i, x, denoised);
    const d = toD(x, denoised, s);
    x = axpby(1, x, sigmas[i + 1] - s, d);
  }
  return c.tensor(x);
};

/** Ancestral Euler (k-diffusion sample_euler_ancestral, ComfyUI variant: x = D when sigma_down is 0). */
export const sampleEulerAncestral: Sampler = async (denoise, x0, sigmas, opts) => {
  const c = new SamplerContext(denoise, x0, sigmas, opts);
  let x = x0.data;
  for (let i = 0; i < c.total; i++) {
    const s = sigmas[i];
    const denoised = await c.denoise(x, s);
    const { sigmaDown, sigmaUp } = ancestralStep(s, sigmas[i + 1], c.eta);
    await c.step(i, x, denoised);
    if (sigmaDown === 0) {
      x = denoised.slice();
      continue;
    }
    const d = toD(x, denoised, s);
    const next = axpby(1, x, sigmaDown - s, d);
    if (sigmaUp > 0) c.addAncestralNoise(next, c.sNoise * sigmaUp);
    x = next;
  }
  return c.tensor(x);
};

/**
 * ComfyUI's "ddim": deterministic DDIM is Euler in the sigma parameterisation (Karras et al. 2022, sec. 3),
 * so ComfyUI maps it to the euler sampler.
 */
export const sampleDdim: Sampler = (denoise, x, sigmas, opts) => sampleEuler(denoise, x, sigmas, opts);
