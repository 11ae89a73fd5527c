/**
 * ER-SDE-Solver-3 (Cui et al. 2023, "Elucidating the solution space of extended reverse-time SDE for diffusion
 * models", arXiv 2309.06169; ComfyUI sample_er_sde, max_stage 3, for eps/v models where alpha = 1 and the solver's
 * lambda is sigma): stage 1 is an Euler step of the extended reverse SDE with ComfyUI's default noise scaler
 * x (e^(x^0.3) + 10); stages 2 and 3 add divided-difference corrections whose integrals are Riemann sums over 200
 * points, as ComfyUI computes them. Noise comes from the ancestral stream (ComfyUI default_noise_sampler).
 */
import { SamplerContext } from './common.js';
import type { Sampler } from './types.js';

const MAX_STAGE = 3;
const POINTS = 200;

const noiseScaler = (v: number): number => v * (Math.exp(v ** 0.3) + 10);

export const sampleErSde: Sampler = async (denoise, x0, sigmas, opts) => {
  const c = new SamplerContext(denoise, x0, sigmas, opts);
  const sNoise = c.sNoise;
  let x = x0.data;
  const n = x.length;
  let oldDenoised: Float32Array | null = null;
  let oldDenoisedD: Float32Array | null = null;
  for (let i = 0; i < c.total; i++) {
    const s = sigmas[i];
    const sNext = sigmas[i + 1];
    const denoised = await c.denoise(x, s);
    await c.step(i, x, denoised);
    const stage = Math.min(MAX_STAGE, i + 1);
    if (sNext === 0) {
      x = denoised.slice();
    } else {
      const r = noiseScaler(sNext) / noiseScaler(s);
      const next = new Float32Array(n);
      for (let k = 0; k < n; k++) next[k] = r * x[k] + (1 - r) * denoised[k];
      if (stage >= 2 && oldDenoised) {
        const dt = sNext - s;
        const step = -dt / POINTS;
        let sum = 0;
        let sumU = 0;
        for (let p = 0; p < POINTS; p++) {
          const pos = sNext + p * step;
          const scaled = noiseScaler(pos);
          sum += 1 / scaled;
          sumU += (pos - s) / scaled;
        }
        const integral = sum * step;
        const dd = new Float32Array(n);
        const k2 = dt + integral * noiseScaler(sNext);
        const span = s - sigmas[i - 1];
        for (let k = 0; k < n; k++) {
          dd[k] = (denoised[k] - oldDenoised[k]) / span;
          next[k] += k2 * dd[k];
        }
        if (stage >= 3 && oldDenoisedD) {
          const k3 = (dt * dt) / 2 + sumU * step * noiseScaler(sNext);
          const half = (s - sigmas[i - 2]) / 2;
          for (let k = 0; k < n; k++) next[k] += k3 * ((dd[k] - oldDenoisedD[k]) / half);
        }
        oldDenoisedD = dd;
      }
      if (sNoise > 0) {
        // ComfyUI's nan_to_num: a negative radicand (sigma rising) adds no noise.
        const amp = Math.sqrt(sNext * sNext - s * s * r * r);
        c.addAncestralNoise(next, sNoise * (Number.isNaN(amp) ? 0 : amp));
      }
      x = next;
    }
    oldDenoised = denoised;
  }
  return c.tensor(x);
};
