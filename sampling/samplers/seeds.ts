/**
 * SEEDS (Gonzalez et al. 2023, "SEEDS: Exponential SDE Solvers for Fast High-Quality Sampling from Diffusion
 * Models", arXiv 2305.14267; ComfyUI sample_seeds_2, sample_seeds_3, and sample_exp_heun_2_x0(_sde) which are
 * seeds_2 with r = 1 and the phi_2 update), for eps/v models where alpha = 1 and lambda = -ln sigma. Noise, when eta
 * and s_noise allow, comes from the ancestral stream (ComfyUI default_noise_sampler), drawn per stage as ComfyUI draws it.
 */
import { SamplerContext } from './common.js';
import type { Sampler } from './types.js';

/** h * phi_1(h) and h * phi_2(h) of exponential integrators (ComfyUI ei_h_phi_1 / ei_h_phi_2). */
const hPhi1 = (h: number): number => Math.expm1(h);
const hPhi2 = (h: number): number => (Math.expm1(h) - h) / h;

interface Seeds2Options {
  r: number;
  solver: 'phi_1' | 'phi_2';
  stochastic: boolean;
}

function seeds2({ r, solver, stochastic }: Seeds2Options): Sampler {
  return async (denoise, x0, sigmas, opts) => {
    const c = new SamplerContext(denoise, x0, sigmas, opts);
    const eta = stochastic ? c.eta : 0;
    const sNoise = stochastic ? c.sNoise : 0;
    const inject = eta > 0 && sNoise > 0;
    const fac = 1 / (2 * r);
    let x = x0.data;
    const n = x.length;
    for (let i = 0; i < c.total; i++) {
      const s = sigmas[i];
      const sNext = sigmas[i + 1];
      const denoised = await c.denoise(x, s);
      await c.step(i, x, denoised);
      if (sNext === 0) {
        x = denoised.slice();
        continue;
      }
      const lambdaS = -Math.log(s);
      const h = -Math.log(sNext) - lambdaS;
      const hEta = h * (eta + 1);
      const sigmaS1 = Math.exp(-(lambdaS + r * h));

      const { x2, sde } = firstStage(c, x, denoised, { s, sigmaS1, r, h, eta, hEta, sNoise, inject });
      const denoised2 = await c.denoise(x2, sigmaS1);

      const next = new Float32Array(n);
      const a = (sNext / s) * Math.exp(-h * eta);
      if (solver === 'phi_1') {
        const b = hPhi1(-hEta);
        for (let k = 0; k < n; k++) next[k] = a * x[k] - b * (denoised[k] + fac * (denoised2[k] - denoised[k]));
      } else {
        const b2 = hPhi2(-hEta) / r;
        const bb1 = hPhi1(-hEta) - b2;
        for (let k = 0; k < n; k++) next[k] = a * x[k] - (bb1 * denoised[k] + b2 * denoised2[k]);
      }
      if (sde) addSegmentNoise(c, sde, next, (r - 1) * h * eta, sNext * sNoise);
      x = next;
    }
    return c.tensor(x);
  };
}

/** SEEDS-2 (ComfyUI sample_seeds_2: r = 1/2, phi_1 update, eta 1). */
export const sampleSeeds2: Sampler = seeds2({ r: 0.5, solver: 'phi_1', stochastic: true });

/** Exponential Heun in data prediction and log-SNR time (ComfyUI sample_exp_heun_2_x0: seeds_2, r = 1, phi_2, eta 0). */
export const sampleExpHeun2X0: Sampler = seeds2({ r: 1, solver: 'phi_2', stochastic: false });

/** Its stochastic form (ComfyUI sample_exp_heun_2_x0_sde: seeds_2, r = 1, phi_2, eta 1). */
export const sampleExpHeun2X0Sde: Sampler = seeds2({ r: 1, solver: 'phi_2', stochastic: true });

/** SEEDS-3 (ComfyUI sample_seeds_3: stages at r1 = 1/3 and r2 = 2/3 in lambda, eta 1). */
export const sampleSeeds3: Sampler = async (denoise, x0, sigmas, opts) => {
  const c = new SamplerContext(denoise, x0, sigmas, opts);
  const eta = c.eta;
  const sNoise = c.sNoise;
  const inject = eta > 0 && sNoise > 0;
  const r1 = 1 / 3;
  const r2 = 2 / 3;
  let x = x0.data;
  const n = x.length;
  for (let i = 0; i < c.total; i++) {
    const s = sigmas[i];
    const sNext = sigmas[i + 1];
    const denoised = await c.denoise(x, s);
    await c.step(i, x, denoised);
    if (sNext === 0) {
      x = denoised.slice();
      continue;
    }
    const lambdaS = -Math.log(s);
    const h = -Math.log(sNext) - lambdaS;
    const hEta = h * (eta + 1);
    const sigmaS1 = Math.exp(-(lambdaS + r1 * h));
    const sigmaS2 = Math.exp(-(lambdaS + r2 * h));

    const { x2, sde } = firstStage(c, x, denoised, { s, sigmaS1, r: r1, h, eta, hEta, sNoise, inject });
    const denoised2 = await c.denoise(x2, sigmaS1);

    const a32 = (r2 / r1) * hPhi2(-r2 * hEta);
    const a31 = hPhi1(-r2 * hEta) - a32;
    const a2 = (sigmaS2 / s) * Math.exp(-r2 * h * eta);
    const x3 = new Float32Array(n);
    for (let k = 0; k < n; k++) x3[k] = a2 * x[k] - (a31 * denoised[k] + a32 * denoised2[k]);
    if (sde) addSegmentNoise(c, sde, x3, (r1 - r2) * h * eta, sigmaS2 * sNoise);
    const denoised3 = await c.denoise(x3, sigmaS2);

    const b3 = hPhi2(-hEta) / r2;
    const b1 = hPhi1(-hEta) - b3;
    const a = (sNext / s) * Math.exp(-h * eta);
    const next = new Float32Array(n);
    for (let k = 0; k < n; k++) next[k] = a * x[k] - (b1 * denoised[k] + b3 * denoised3[k]);
    if (sde) addSegmentNoise(c, sde, next, (r2 - 1) * h * eta, sNext * sNoise);
    x = next;
  }
  return c.tensor(x);
};

/** The Brownian-like carry between SEEDS stages: sde = sde e^seg + sqrt(1 - e^(2 seg)) w, then x += sde * scale. */
function addSegmentNoise(c: SamplerContext, sde: Float32Array, x: Float32Array, seg: number, scale: number): void {
  const keep = Math.exp(seg);
  const amp = Math.sqrt(-Math.expm1(2 * seg));
  const w = c.ancestralNoise();
  for (let k = 0; k < x.length; k++) {
    sde[k] = sde[k] * keep + amp * w[k];
    x[k] += sde[k] * scale;
  }
}

interface StageAt { s: number; sigmaS1: number; r: number; h: number; eta: number; hEta: number; sNoise: number; inject: boolean }

/** The first SEEDS stage, shared by seeds_2 and seeds_3: x2 = a x - h phi_1 denoised, plus its noise (kept as `sde` for the next stages). */
function firstStage(c: SamplerContext, x: Float32Array, denoised: Float32Array, t: StageAt): { x2: Float32Array; sde?: Float32Array } {
  const n = x.length;
  const x2 = new Float32Array(n);
  const a1 = (t.sigmaS1 / t.s) * Math.exp(-t.r * t.h * t.eta);
  const b1 = hPhi1(-t.r * t.hEta);
  for (let k = 0; k < n; k++) x2[k] = a1 * x[k] - b1 * denoised[k];
  if (!t.inject) return { x2 };
  const w = c.ancestralNoise();
  const amp = Math.sqrt(-Math.expm1(-2 * t.r * t.h * t.eta));
  const sde = new Float32Array(n);
  for (let k = 0; k < n; k++) {
    sde[k] = amp * w[k];
    x2[k] += sde[k] * t.sigmaS1 * t.sNoise;
  }
  return { x2, sde };
}
