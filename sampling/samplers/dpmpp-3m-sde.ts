import { SamplerContext } from './common.js';
import type { Sampler } from './types.js';

/**
 * DPM-Solver++(3M) SDE (k-diffusion / ComfyUI sample_dpmpp_3m_sde for eps/v models, where alpha_t = 1 and
 * lambda = -ln sigma): third-order multistep from the last three denoised estimates, 2M on the second step and
 * first order on the first. Noise comes from the Brownian tree (SamplerContext.brownianNoise), as in ComfyUI.
 */
export const sampleDpmpp3mSde: Sampler = async (denoise, x0, sigmas, opts) => {
  const c = new SamplerContext(denoise, x0, sigmas, opts);
  const eta = c.eta;
  let x = x0.data;
  let d1: Float32Array | null = null;
  let d2: Float32Array | null = null;
  let h: number | null = null;
  let h1: number | null = null;
  let h2: number | null = null;
  for (let i = 0; i < c.total; i++) {
    const s = sigmas[i];
    const sNext = sigmas[i + 1];
    const denoised = await c.denoise(x, s);
    await c.step(i, x, denoised);
    if (sNext === 0) {
      x = denoised.slice();
    } else {
      const hi = Math.log(s) - Math.log(sNext);
      h = hi;
      const hEta = hi * (eta + 1);
      const a = (sNext / s) * Math.exp(-hi * eta);
      const b = -Math.expm1(-hEta);
      const phi2 = Math.expm1(-hEta) / hEta + 1;
      const next = new Float32Array(x.length);
      for (let k = 0; k < x.length; k++) next[k] = a * x[k] + b * denoised[k];
      if (d1 !== null && d2 !== null && h1 !== null && h2 !== null) {
        const r0 = h1 / hi;
        const r1 = h2 / hi;
        const phi3 = phi2 / hEta - 0.5;
        for (let k = 0; k < x.length; k++) {
          const g0 = (denoised[k] - d1[k]) / r0;
          const g1 = (d1[k] - d2[k]) / r1;
          const first = g0 + ((g0 - g1) * r0) / (r0 + r1);
          const second = (g0 - g1) / (r0 + r1);
          next[k] += phi2 * first - phi3 * second;
        }
      } else if (d1 !== null && h1 !== null) {
        const r = h1 / hi;
        for (let k = 0; k < x.length; k++) next[k] += phi2 * ((denoised[k] - d1[k]) / r);
      }
      c.addSdeNoise(next, s, sNext, hi);
      x = next;
    }
    // As k-diffusion: the history shifts on every step, and h keeps its last value on a step to sigma 0.
    d2 = d1;
    d1 = denoised;
    h2 = h1;
    h1 = h;
  }
  return c.tensor(x);
};
