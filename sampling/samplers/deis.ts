/**
 * DEIS, the time-quadratic 'tab' form (Zhang & Chen 2023, "Fast Sampling of Diffusion Models with Exponential
 * Integrator"; ComfyUI sample_deis with k_diffusion/deis.py get_deis_coeff_list, from zju-pi/diff-sampler, max_order 3):
 * a multistep on the probability-flow slopes whose weights integrate the Lagrange polynomials through past VP times
 * against the VP integrand, by ComfyUI's 10000-point sum; Euler on the first step and on the step to 0.
 */
import { SamplerContext } from './common.js';
import type { Sampler } from './types.js';

const MAX_ORDER = 3;
const POINTS = 10000;

/**
 * deis.py edm2t: EDM sigmas to the VP time t of a VP schedule fitted to sigma 0.002..80 with epsilon_s = 1e-3 (fixed
 * in ComfyUI, whatever the model), with that schedule's beta_0 and beta_1.
 */
export function edmToVpTime(sigmas: Float64Array): { t: Float64Array; beta0: number; beta1: number } {
  const epsS = 1e-3;
  const sigmaMin = 0.002;
  const sigmaMax = 80;
  const betaD = (2 * (Math.log(sigmaMin ** 2 + 1) / epsS - Math.log(sigmaMax ** 2 + 1))) / (epsS - 1);
  const betaMin = Math.log(sigmaMax ** 2 + 1) - 0.5 * betaD;
  const t = sigmas.map((s) => (Math.sqrt(betaMin ** 2 + 2 * betaD * Math.log(s ** 2 + 1)) - betaMin) / betaD);
  return { t, beta0: betaMin, beta1: betaD + betaMin };
}

/** deis.py get_deis_coeff_list ('tab'): per step, the weights of the current and past slopes (empty for order 1). */
export function deisCoefficients(sigmas: Float64Array, maxOrder = MAX_ORDER): number[][] {
  const { t, beta0, beta1 } = edmToVpTime(sigmas);
  const out: number[][] = [];
  for (let i = 0; i + 1 < t.length; i++) {
    const order = Math.min(i + 1, maxOrder);
    // The step to sigma 0 is an Euler step; its integrand is infinite at t = 0, so its weights are not computed.
    if (order === 1 || !(sigmas[i + 1] > 0)) {
      out.push([]);
      continue;
    }
    const tCur = t[i];
    const tNext = t[i + 1];
    const dtau = (tNext - tCur) / POINTS;
    const prev = Array.from({ length: order }, (_, k) => t[i - k]);
    const coeffs = new Array<number>(order).fill(0);
    for (let p = 0; p < POINTS; p++) {
      // torch.linspace(t_cur, t_next, N): both ends included.
      const tau = tCur + ((tNext - tCur) * p) / (POINTS - 1);
      const alpha = Math.exp(-0.5 * tau * tau * (beta1 - beta0) - tau * beta0);
      const dLogAlpha = -tau * (beta1 - beta0) - beta0;
      const integrand = (-0.5 * dLogAlpha) / Math.sqrt(alpha * (1 - alpha));
      for (let j = 0; j < order; j++) {
        let poly = 1;
        for (let k = 0; k < order; k++) if (k !== j) poly *= (tau - prev[k]) / (prev[j] - prev[k]);
        coeffs[j] += integrand * poly;
      }
    }
    out.push(coeffs.map((v) => v * dtau));
  }
  return out;
}

export const sampleDeis: Sampler = async (denoise, x0, sigmas, opts) => {
  const c = new SamplerContext(denoise, x0, sigmas, opts);
  const coeffs = c.total > 0 ? deisCoefficients(sigmas) : [];
  let x = x0.data;
  const n = x.length;
  /** Past slopes, newest last (at most MAX_ORDER - 1). */
  const history: Float32Array[] = [];
  for (let i = 0; i < c.total; i++) {
    const s = sigmas[i];
    const sNext = sigmas[i + 1];
    const denoised = await c.denoise(x, s);
    await c.step(i, x, denoised);
    const d = new Float32Array(n);
    for (let k = 0; k < n; k++) d[k] = (x[k] - denoised[k]) / s;
    const order = sNext <= 0 ? 1 : Math.min(MAX_ORDER, i + 1);
    const next = new Float32Array(n);
    if (order === 1) {
      for (let k = 0; k < n; k++) next[k] = x[k] + (sNext - s) * d[k];
    } else {
      const w = coeffs[i];
      for (let k = 0; k < n; k++) {
        let v = x[k] + w[0] * d[k];
        for (let j = 1; j < order; j++) v += w[j] * history[history.length - j][k];
        next[k] = v;
      }
    }
    history.push(d);
    if (history.length > MAX_ORDER - 1) history.shift();
    x = next;
  }
  return c.tensor(x);
};
