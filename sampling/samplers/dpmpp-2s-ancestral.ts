import { SamplerContext, ancestralStep } from './common.js';
import type { Sampler } from './types.js';
import { axpby, toD } from './vector.js';

/**
 * Ancestral DPM-Solver++(2S) (Lu et al. 2022; k-diffusion / ComfyUI sample_dpmpp_2s_ancestral for eps/v models):
 * a second-order singlestep update with its midpoint at r = 1/2 in lambda = -ln sigma down to sigma_down, then
 * fresh noise of size sigma_up from the ancestral noise stream, as euler_ancestral draws it.
 */
export const sampleDpmpp2sAncestral: Sampler = async (denoise, x0, sigmas, opts) => {
  const c = new SamplerContext(denoise, x0, sigmas, opts);
  let x = x0.data;
  for (let i = 0; i < c.total; i++) {
    const s = sigmas[i];
    const sNext = sigmas[i + 1];
    const denoised = await c.denoise(x, s);
    const { sigmaDown, sigmaUp } = ancestralStep(s, sNext, c.eta);
    await c.step(i, x, denoised);
    let next: Float32Array;
    if (sigmaDown === 0) {
      // k-diffusion takes a plain Euler step here, not x = D; kept for the same float32 rounding.
      next = axpby(1, x, sigmaDown - s, toD(x, denoised, s));
    } else {
      const t = -Math.log(s);
      const h = -Math.log(sigmaDown) - t;
      const sMid = Math.exp(-(t + 0.5 * h));
      const x2 = axpby(sMid / s, x, -Math.expm1(-0.5 * h), denoised);
      const denoised2 = await c.denoise(x2, sMid);
      next = axpby(sigmaDown / s, x, -Math.expm1(-h), denoised2);
    }
    if (sNext > 0 && sigmaUp > 0) c.addAncestralNoise(next, c.sNoise * sigmaUp);
    x = next;
  }
  return c.tensor(x);
};
