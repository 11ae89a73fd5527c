import { SamplerContext, ancestralStep } from './common.js';
import type { Sampler } from './types.js';
import { axpby, toD } from './vector.js';

/** Heun's second-order method (Algorithm 1 of Karras et al. 2022; k-diffusion sample_heun); Euler on the step to 0. */
export const sampleHeun: Sampler = async (denoise, x0, sigmas, opts) => {
  const c = new SamplerContext(denoise, x0, sigmas, opts);
  let x = x0.data;
  for (let i = 0; i < c.total; i++) {
    const s = sigmas[i];
    const sNext = sigmas[i + 1];
    const denoised = await c.denoise(x, s);
    await c.step(i, x, denoised);
    const d = toD(x, denoised, s);
    const dt = sNext - s;
    const x2 = axpby(1, x, dt, d);
    if (sNext === 0) {
      x = x2;
      continue;
    }
    const d2 = toD(x2, await c.denoise(x2, sNext), sNext);
    const next = new Float32Array(x.length);
    for (let k = 0; k < x.length; k++) next[k] = x[k] + ((d[k] + d2[k]) / 2) * dt;
    x = next;
  }
  return c.tensor(x);
};

/** DPM-Solver-2 as a midpoint method in log sigma (Karras et al. 2022 sec. 3; k-diffusion sample_dpm_2). */
export const sampleDpm2: Sampler = async (denoise, x0, sigmas, opts) => {
  const c = new SamplerContext(denoise, x0, sigmas, opts);
  let x = x0.data;
  for (let i = 0; i < c.total; i++) {
    const s = sigmas[i];
    const sNext = sigmas[i + 1];
    const denoised = await c.denoise(x, s);
    await c.step(i, x, denoised);
    const d = toD(x, denoised, s);
    if (sNext === 0) {
      x = axpby(1, x, sNext - s, d);
      continue;
    }
    const sMid = Math.exp((Math.log(s) + Math.log(sNext)) / 2);
    const x2 = axpby(1, x, sMid - s, d);
    const d2 = toD(x2, await c.denoise(x2, sMid), sMid);
    x = axpby(1, x, sNext - s, d2);
  }
  return c.tensor(x);
};

/** Ancestral DPM-Solver-2 (k-diffusion sample_dpm_2_ancestral): midpoint step to sigma_down, then noise sigma_up. */
export const sampleDpm2Ancestral: Sampler = async (denoise, x0, sigmas, opts) => {
  const c = new SamplerContext(denoise, x0, sigmas, opts);
  let x = x0.data;
  for (let i = 0; i < c.total; i++) {
    const s = sigmas[i];
    const denoised = await c.denoise(x, s);
    const { sigmaDown, sigmaUp } = ancestralStep(s, sigmas[i + 1], c.eta);
    await c.step(i, x, denoised);
    const d = toD(x, denoised, s);
    if (sigmaDown === 0) {
      x = axpby(1, x, sigmaDown - s, d);
      continue;
    }
    const sMid = Math.exp((Math.log(s) + Math.log(sigmaDown)) / 2);
    const x2 = axpby(1, x, sMid - s, d);
    const d2 = toD(x2, await c.denoise(x2, sMid), sMid);
    const next = axpby(1, x, sigmaDown - s, d2);
    if (sigmaUp > 0) c.addAncestralNoise(next, c.sNoise * sigmaUp);
    x = next;
  }
  return c.tensor(x);
};
