/**
 * The CFG++ samplers (Chung et al. 2024, "CFG++: Manifold-constrained Classifier Free Guidance"; ComfyUI
 * sample_euler_ancestral_cfg_pp, sample_euler_cfg_pp, sample_dpmpp_2s_ancestral_cfg_pp, sample_dpmpp_2m_cfg_pp for
 * eps/v models): the step returns to the noise along the unconditional estimate instead of the guided one, so the
 * guided estimate only moves the clean image. They read the unconditional estimate through SamplerContext.denoiseWithUncond.
 */
import { SamplerContext, ancestralStep } from './common.js';
import type { Sampler } from './types.js';

/** Marks a sampler as one that needs the denoiser's unconditional estimate. */
export function usingUncond(fn: Sampler): Sampler {
  return Object.assign(fn, { usesUncond: true });
}

/**
 * Ancestral Euler, CFG++ (ComfyUI sample_euler_ancestral_cfg_pp): x = D + sigma_down (x - D_uncond) / sigma, then
 * ancestral noise of size sigma_up; x = D on the step to 0. With eta 0 it is euler_cfg_pp and draws nothing.
 */
function eulerCfgPp(ancestral: boolean): Sampler {
  return usingUncond(async (denoise, x0, sigmas, opts) => {
    const c = new SamplerContext(denoise, x0, sigmas, opts);
    const eta = ancestral ? c.eta : 0;
    const sNoise = ancestral ? c.sNoise : 0;
    let x = x0.data;
    for (let i = 0; i < c.total; i++) {
      const s = sigmas[i];
      const sNext = sigmas[i + 1];
      const { denoised, uncond } = await c.denoiseWithUncond(x, s);
      await c.step(i, x, denoised);
      if (sNext === 0) {
        x = denoised.slice();
        continue;
      }
      const { sigmaDown, sigmaUp } = ancestralStep(s, sNext, eta);
      const next = new Float32Array(x.length);
      for (let k = 0; k < x.length; k++) next[k] = denoised[k] + (sigmaDown * (x[k] - uncond[k])) / s;
      if (eta > 0 && sNoise > 0) c.addAncestralNoise(next, sNoise * sigmaUp);
      x = next;
    }
    return c.tensor(x);
  });
}

export const sampleEulerAncestralCfgPp: Sampler = eulerCfgPp(true);

/** Euler, CFG++ (ComfyUI sample_euler_cfg_pp: euler_ancestral_cfg_pp with eta 0 and s_noise 0). */
export const sampleEulerCfgPp: Sampler = eulerCfgPp(false);

/**
 * Ancestral DPM-Solver++(2S), CFG++ (ComfyUI sample_dpmpp_2s_ancestral_cfg_pp): both exponential-integrator stages
 * start from x + (D - D_uncond); midpoint r = 1/2 in lambda = -ln sigma; ancestral noise after each step but the last.
 */
export const sampleDpmpp2sAncestralCfgPp: Sampler = usingUncond(async (denoise, x0, sigmas, opts) => {
  const c = new SamplerContext(denoise, x0, sigmas, opts);
  let x = x0.data;
  for (let i = 0; i < c.total; i++) {
    const s = sigmas[i];
    const sNext = sigmas[i + 1];
    const { denoised, uncond } = await c.denoiseWithUncond(x, s);
    const { sigmaDown, sigmaUp } = ancestralStep(s, sNext, c.eta);
    await c.step(i, x, denoised);
    const next = new Float32Array(x.length);
    if (sigmaDown === 0) {
      next.set(denoised);
    } else {
      const t = -Math.log(s);
      const h = -Math.log(sigmaDown) - t;
      const sMid = Math.exp(-(t + 0.5 * h));
      const shifted = new Float32Array(x.length);
      for (let k = 0; k < x.length; k++) shifted[k] = x[k] + (denoised[k] - uncond[k]);
      const x2 = new Float32Array(x.length);
      const a = -Math.expm1(-0.5 * h);
      for (let k = 0; k < x.length; k++) x2[k] = (sMid / s) * shifted[k] + a * denoised[k];
      const denoised2 = await c.denoise(x2, sMid);
      const b = -Math.expm1(-h);
      for (let k = 0; k < x.length; k++) next[k] = (sigmaDown / s) * shifted[k] + b * denoised2[k];
    }
    if (sNext > 0 && c.sNoise * sigmaUp > 0) c.addAncestralNoise(next, c.sNoise * sigmaUp);
    x = next;
  }
  return c.tensor(x);
});

/**
 * DPM-Solver++(2M), CFG++ (ComfyUI sample_dpmpp_2m_cfg_pp): x = D + e^-h (x - D_uncond) plus the second-order
 * correction from the previous unconditional estimate.
 */
export const sampleDpmpp2mCfgPp: Sampler = usingUncond(async (denoise, x0, sigmas, opts) => {
  const c = new SamplerContext(denoise, x0, sigmas, opts);
  let x = x0.data;
  let oldUncond: Float32Array | null = null;
  for (let i = 0; i < c.total; i++) {
    const s = sigmas[i];
    const sNext = sigmas[i + 1];
    const { denoised, uncond } = await c.denoiseWithUncond(x, s);
    await c.step(i, x, denoised);
    const next = new Float32Array(x.length);
    if (sNext === 0) {
      // e^-h is 0 here: ComfyUI's expression reduces to D.
      next.set(denoised);
    } else {
      const t = -Math.log(s);
      const h = -Math.log(sNext) - t;
      const e = Math.exp(-h);
      if (oldUncond === null) {
        for (let k = 0; k < x.length; k++) next[k] = denoised[k] - e * uncond[k] + e * x[k];
      } else {
        const r = (t + Math.log(sigmas[i - 1])) / h;
        const m = Math.expm1(-h) * (1 / (2 * r));
        for (let k = 0; k < x.length; k++) next[k] = denoised[k] + (-e * uncond[k] - m * (denoised[k] - oldUncond[k])) + e * x[k];
      }
    }
    oldUncond = uncond;
    x = next;
  }
  return c.tensor(x);
});
