import { SamplerContext, ancestralStep } from './common.js';
import type { Tensor } from '../../runtime/tensor.js';
import type { Denoiser, Sampler, SamplerOptions } from './types.js';

/** DPM-Solver++(2M) (Lu et al. 2022, Algorithm 2; k-diffusion sample_dpmpp_2m). */
export const sampleDpmpp2m: Sampler = async (denoise, x0, sigmas, opts) => {
  const c = new SamplerContext(denoise, x0, sigmas, opts);
  let x = x0.data;
  let old: Float32Array | null = null;
  for (let i = 0; i < c.total; i++) {
    const s = sigmas[i];
    const sNext = sigmas[i + 1];
    const denoised = await c.denoise(x, s);
    await c.step(i, x, denoised);
    const t = -Math.log(s);
    const tNext = -Math.log(sNext);
    const h = tNext - t;
    const ratio = sNext / s;
    const coef = -Math.expm1(-h);
    const next = new Float32Array(x.length);
    if (old === null || sNext === 0) {
      for (let k = 0; k < x.length; k++) next[k] = ratio * x[k] + coef * denoised[k];
    } else {
      const r = (t + Math.log(sigmas[i - 1])) / h;
      const a = 1 + 1 / (2 * r);
      const b = 1 / (2 * r);
      for (let k = 0; k < x.length; k++) next[k] = ratio * x[k] + coef * (a * denoised[k] - b * old[k]);
    }
    old = denoised;
    x = next;
  }
  return c.tensor(x);
};

/** How DPM-Solver++(2M) SDE weights the second-order correction (ComfyUI's solver_type). */
export type Dpmpp2mSdeSolver = 'midpoint' | 'heun';

/**
 * DPM-Solver++(2M) SDE (ComfyUI sample_dpmpp_2m_sde / sample_dpmpp_2m_sde_heun for eps/v models, where alpha_t = 1
 * and lambda = -ln sigma). Noise comes from the Brownian tree (SamplerContext.brownianNoise), as in ComfyUI.
 */
export function makeDpmpp2mSde(solver: Dpmpp2mSdeSolver): Sampler {
  return (denoise, x0, sigmas, opts) => dpmpp2mSde(solver, denoise, x0, sigmas, opts);
}

async function dpmpp2mSde(
  solver: Dpmpp2mSdeSolver, denoise: Denoiser, x0: Tensor, sigmas: Float64Array, opts: SamplerOptions,
): Promise<Tensor> {
  const c = new SamplerContext(denoise, x0, sigmas, opts);
  const eta = c.eta;
  let x = x0.data;
  let old: Float32Array | null = null;
  let hLast: number | null = null;
  for (let i = 0; i < c.total; i++) {
    const s = sigmas[i];
    const sNext = sigmas[i + 1];
    const denoised = await c.denoise(x, s);
    await c.step(i, x, denoised);
    if (sNext === 0) {
      x = denoised.slice();
      old = denoised;
      continue;
    }
    const h = Math.log(s) - Math.log(sNext);
    const hEta = h * (eta + 1);
    const a = (sNext / s) * Math.exp(-h * eta);
    const b = -Math.expm1(-hEta);
    const next = new Float32Array(x.length);
    for (let k = 0; k < x.length; k++) next[k] = a * x[k] + b * denoised[k];
    if (old !== null && hLast !== null) {
      const r = hLast / h;
      const m = solver === 'midpoint' ? 0.5 * b * (1 / r) : (b / -hEta + 1) * (1 / r);
      for (let k = 0; k < x.length; k++) next[k] += m * (denoised[k] - old[k]);
    }
    c.addSdeNoise(next, s, sNext, h);
    old = denoised;
    hLast = h;
    x = next;
  }
  return c.tensor(x);
}

/** DPM-Solver++(2M) SDE, midpoint variant (ComfyUI's "dpmpp_2m_sde"). */
export const sampleDpmpp2mSde: Sampler = makeDpmpp2mSde('midpoint');

/** DPM-Solver++(2M) SDE, Heun variant (ComfyUI's "dpmpp_2m_sde_heun"). */
export const sampleDpmpp2mSdeHeun: Sampler = makeDpmpp2mSde('heun');

/**
 * DPM-Solver++ stochastic, second order with r = 1/2 (k-diffusion / ComfyUI sample_dpmpp_sde for eps/v
 * models). Noise comes from the Brownian tree, queried over [sigma_s1, sigma] and [sigma_next, sigma] in each step, as
 * in ComfyUI.
 */
export const sampleDpmppSde: Sampler = async (denoise, x0, sigmas, opts) => {
  const c = new SamplerContext(denoise, x0, sigmas, opts);
  const eta = c.eta;
  const r = 0.5;
  const fac = 1 / (2 * r);
  let x = x0.data;
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
    const sigmaS1 = Math.exp(-(lambdaS + r * h));

    const st1 = ancestralStep(s, sigmaS1, eta);
    const h1 = -Math.log(st1.sigmaDown) - lambdaS;
    const x2 = new Float32Array(x.length);
    for (let k = 0; k < x.length; k++) x2[k] = Math.exp(-h1) * x[k] - Math.expm1(-h1) * denoised[k];
    if (eta > 0 && c.sNoise > 0 && st1.sigmaUp > 0) c.addBrownianNoise(x2, s, sigmaS1, c.sNoise * st1.sigmaUp);
    const denoised2 = await c.denoise(x2, sigmaS1);

    const st2 = ancestralStep(s, sNext, eta);
    const h2 = -Math.log(st2.sigmaDown) - lambdaS;
    const next = new Float32Array(x.length);
    for (let k = 0; k < x.length; k++) {
      const dd = (1 - fac) * denoised[k] + fac * denoised2[k];
      next[k] = Math.exp(-h2) * x[k] - Math.expm1(-h2) * dd;
    }
    if (eta > 0 && c.sNoise > 0 && st2.sigmaUp > 0) c.addBrownianNoise(next, s, sNext, c.sNoise * st2.sigmaUp);
    x = next;
  }
  return c.tensor(x);
};
