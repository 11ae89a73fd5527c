/**
 * RES multistep (Zhang et al. 2023, "Improved order analysis and design of exponential integrator for diffusion
 * models sampling", arXiv 2308.02157; ComfyUI res_multistep and its four entry points, for eps/v models): a
 * second-order exponential multistep in lambda = -ln sigma, Euler on the first step, optional ancestral noise (the
 * _ancestral names, eta) and a CFG++ form (the _cfg_pp names).
 */
import { SamplerContext, ancestralStep } from './common.js';
import { usingUncond } from './cfg-pp.js';
import type { Sampler } from './types.js';

function resMultistep(ancestral: boolean, cfgPp: boolean): Sampler {
  const sampler: Sampler = async (denoise, x0, sigmas, opts) => {
    const c = new SamplerContext(denoise, x0, sigmas, opts);
    const eta = ancestral ? c.eta : 0;
    let x = x0.data;
    let oldDenoised: Float32Array | null = null;
    let oldSigmaDown = 0;
    for (let i = 0; i < c.total; i++) {
      const s = sigmas[i];
      const sNext = sigmas[i + 1];
      const { denoised, uncond } = cfgPp ? await c.denoiseWithUncond(x, s) : { denoised: await c.denoise(x, s), uncond: undefined };
      const { sigmaDown, sigmaUp } = ancestralStep(s, sNext, eta);
      await c.step(i, x, denoised);
      const next = new Float32Array(x.length);
      if (sigmaDown === 0 || oldDenoised === null) {
        if (uncond) for (let k = 0; k < x.length; k++) next[k] = denoised[k] + ((x[k] - uncond[k]) / s) * sigmaDown;
        else for (let k = 0; k < x.length; k++) next[k] = x[k] + ((x[k] - denoised[k]) / s) * (sigmaDown - s);
      } else {
        const t = -Math.log(s);
        const tOld = -Math.log(oldSigmaDown);
        const tNext = -Math.log(sigmaDown);
        const tPrev = -Math.log(sigmas[i - 1]);
        const h = tNext - t;
        const c2 = (tPrev - tOld) / h;
        const phi1 = Math.expm1(-h) / -h;
        const phi2 = (phi1 - 1) / -h;
        // ComfyUI's nan_to_num: c2 = 0 (a repeated sigma) gives no multistep term.
        const b1 = finiteOr0(phi1 - phi2 / c2);
        const b2 = finiteOr0(phi2 / c2);
        const e = Math.exp(-h);
        const cur = uncond ?? denoised;
        for (let k = 0; k < x.length; k++) {
          const base = uncond ? x[k] + (denoised[k] - uncond[k]) : x[k];
          next[k] = e * base + h * (b1 * cur[k] + b2 * oldDenoised[k]);
        }
      }
      if (sNext > 0 && sigmaUp > 0) c.addAncestralNoise(next, c.sNoise * sigmaUp);
      oldDenoised = uncond ?? denoised;
      oldSigmaDown = sigmaDown;
      x = next;
    }
    return c.tensor(x);
  };
  return cfgPp ? usingUncond(sampler) : sampler;
}

function finiteOr0(v: number): number {
  return Number.isFinite(v) ? v : 0;
}

export const sampleResMultistep: Sampler = resMultistep(false, false);
export const sampleResMultistepCfgPp: Sampler = resMultistep(false, true);
export const sampleResMultistepAncestral: Sampler = resMultistep(true, false);
export const sampleResMultistepAncestralCfgPp: Sampler = resMultistep(true, true);
