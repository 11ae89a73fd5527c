/**
 * SA-Solver, the stochastic Adams predictor-corrector (Xue et al. 2023, NeurIPS, arXiv 2309.05019; ComfyUI
 * sample_sa_solver / sample_sa_solver_pece with k_diffusion/sa_solver.py, predictor order 3, corrector order 4, for
 * eps/v models where alpha = 1 and lambda = -ln sigma). Stochastic (tau = 1) while sigma lies between the model's
 * percent_to_sigma(0.8) and percent_to_sigma(0.2), an ODE elsewhere; noise from the ancestral stream (ComfyUI
 * default_noise_sampler). The _pece form evaluates the model again on each corrected state.
 */
import { ModelSampling } from '../model-sampling.js';
import { SamplerContext } from './common.js';
import type { Sampler } from './types.js';

const PREDICTOR_ORDER = 3;
const CORRECTOR_ORDER = 4;

/**
 * sa_solver.py compute_exponential_coeffs: (1 + tau^2) times the integral of e^((1 + tau^2) x) x^p from s to t,
 * e^((1 + tau^2) t) factored out, for p = 0 .. order - 1, by the integration-by-parts recursion.
 */
export function exponentialCoeffs(s: number, t: number, order: number, tau: number): number[] {
  const tauMul = 1 + tau * tau;
  const h = t - s;
  const terms = Array.from({ length: order }, (_, p) => t ** p - s ** p * Math.exp(-tauMul * h));
  const logFactorial = (n: number): number => {
    let v = 0;
    for (let k = 2; k <= n; k++) v += Math.log(k);
    return v;
  };
  return Array.from({ length: order }, (_, p) => {
    let sum = 0;
    for (let q = 0; q <= p; q++) {
      let log = logFactorial(p) - logFactorial(q);
      if (tau > 0) log -= (p - q) * Math.log(tauMul);
      sum += ((p - q) % 2 === 0 ? 1 : -1) * Math.exp(log) * terms[q];
    }
    return sum;
  });
}

/** Solves A w = b for a small dense A by Gaussian elimination with partial pivoting. */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r][col]) > Math.abs(m[pivot][col])) pivot = r;
    [m[col], m[pivot]] = [m[pivot], m[col]];
    for (let r = col + 1; r < n; r++) {
      const f = m[r][col] / m[col][col];
      for (let k = col; k <= n; k++) m[r][k] -= f * m[col][k];
    }
  }
  const w = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let v = m[r][n];
    for (let k = r + 1; k < n; k++) v -= m[r][k] * w[k];
    w[r] = v / m[r][r];
  }
  return w;
}

/**
 * sa_solver.py compute_stochastic_adams_b_coeffs (not the simple order-2 form, which ComfyUI leaves off): the weights
 * of the estimates at `lambdas` (oldest first) for the step lambdaS -> lambdaT, from the Lagrange basis through them.
 */
export function stochasticAdamsCoeffs(lambdas: readonly number[], lambdaS: number, lambdaT: number, tau: number): number[] {
  const n = lambdas.length;
  const integrals = exponentialCoeffs(lambdaS, lambdaT, n, tau);
  const vandermondeT = Array.from({ length: n }, (_, p) => lambdas.map((l) => l ** p));
  return solve(vandermondeT, integrals);
}

function combine(x: Float32Array, scale: number, coeffs: readonly number[], preds: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(x.length);
  for (let k = 0; k < x.length; k++) {
    let v = scale * x[k];
    for (let j = 0; j < coeffs.length; j++) v += coeffs[j] * preds[j][k];
    out[k] = v;
  }
  return out;
}

function saSolver(pece: boolean): Sampler {
  return async (denoise, x0, sigmas, opts) => {
    const c = new SamplerContext(denoise, x0, sigmas, opts);
    if (sigmas.length <= 1) return x0;
    const percentToSigma = opts.percentToSigma ?? ((p: number) => defaultSampling().percentToSigma(p));
    const startSigma = percentToSigma(0.2);
    const endSigma = percentToSigma(0.8);
    const tauOf = (sigma: number): number => (startSigma >= sigma && sigma >= endSigma ? 1 : 0);
    const sNoise = c.sNoise;
    const lambdas = Array.from(sigmas, (s) => -Math.log(s));
    const maxOrder = Math.max(PREDICTOR_ORDER, CORRECTOR_ORDER);
    const lowerToEnd = sigmas[sigmas.length - 1] === 0;
    let x = x0.data;
    let xPred = x0.data;
    let h = 0;
    let tau = 0;
    let noise: Float32Array | null = null;
    let preds: Float32Array[] = [];
    for (let i = 0; i < c.total; i++) {
      let denoised = await c.denoise(xPred, sigmas[i]);
      await c.step(i, xPred, denoised);
      preds.push(denoised);
      preds = preds.slice(-maxOrder);
      let predictorOrder = Math.min(PREDICTOR_ORDER, preds.length);
      let correctorOrder = i === 0 || (sigmas[i + 1] === 0 && !pece) ? 0 : Math.min(CORRECTOR_ORDER, preds.length);
      if (lowerToEnd) {
        predictorOrder = Math.min(predictorOrder, sigmas.length - 2 - i);
        correctorOrder = Math.min(correctorOrder, sigmas.length - 1 - i);
      }

      if (correctorOrder === 0) {
        x = xPred;
      } else {
        const b = stochasticAdamsCoeffs(lambdas.slice(i - correctorOrder + 1, i + 1), lambdas[i - 1], lambdas[i], tau);
        x = combine(x, (sigmas[i] / sigmas[i - 1]) * Math.exp(-(tau ** 2) * h), b, preds.slice(-correctorOrder));
        if (tau > 0 && sNoise > 0 && noise) for (let k = 0; k < x.length; k++) x[k] += noise[k];
        if (pece) {
          denoised = await c.denoise(x, sigmas[i]);
          preds[preds.length - 1] = denoised;
        }
      }

      if (sigmas[i + 1] === 0) {
        xPred = denoised.slice();
      } else {
        tau = tauOf(sigmas[i + 1]);
        const b = stochasticAdamsCoeffs(lambdas.slice(i - predictorOrder + 1, i + 1), lambdas[i], lambdas[i + 1], tau);
        h = lambdas[i + 1] - lambdas[i];
        xPred = combine(x, (sigmas[i + 1] / sigmas[i]) * Math.exp(-(tau ** 2) * h), b, preds.slice(-predictorOrder));
        if (tau > 0 && sNoise > 0) {
          const w = c.ancestralNoise();
          const amp = sigmas[i + 1] * Math.sqrt(-Math.expm1(-2 * tau ** 2 * h)) * sNoise;
          noise = w.map((v) => v * amp);
          for (let k = 0; k < xPred.length; k++) xPred[k] += noise[k];
        }
      }
    }
    return c.tensor(xPred);
  };
}

let sdSampling: ModelSampling | undefined;
function defaultSampling(): ModelSampling {
  return (sdSampling ??= ModelSampling.sd());
}

export const sampleSaSolver: Sampler = saSolver(false);
export const sampleSaSolverPece: Sampler = saSolver(true);
