import type { ModelSampling } from '../model-sampling.js';
import { betaPpf } from './beta-ppf.js';

/** A scheduler: N steps -> sigmas ending in 0, descending (ComfyUI comfy/samplers.py SCHEDULER_HANDLERS). */
export type Scheduler = (ms: ModelSampling, steps: number) => Float64Array;

/** Thrown for a non-integer or negative step count or bad scheduler arguments. */
export class InvalidStepsError extends Error {
  override readonly name = 'InvalidStepsError';
}

function checkSteps(steps: number): void {
  if (!Number.isInteger(steps) || steps < 0) throw new InvalidStepsError(`steps must be a non-negative integer, got ${steps}`);
}

/** torch.linspace(start, end, n). */
function linspace(start: number, end: number, n: number): Float64Array {
  const out = new Float64Array(n);
  if (n === 1) out[0] = start;
  for (let i = 0; i < n && n > 1; i++) out[i] = start + ((end - start) * i) / (n - 1);
  return out;
}

function withZero(values: ArrayLike<number>): Float64Array {
  const out = new Float64Array(values.length + 1);
  out.set(Array.from(values));
  return out;
}

/** numpy.rint: round half to even. */
function rint(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Karras et al. 2022 eq. 5 (k-diffusion get_sigmas_karras), plus a final 0. */
export function karrasSigmas(steps: number, sigmaMin: number, sigmaMax: number, rho = 7): Float64Array {
  checkSteps(steps);
  const maxInv = sigmaMax ** (1 / rho);
  const minInv = sigmaMin ** (1 / rho);
  return withZero(linspace(0, 1, steps).map((r) => (maxInv + r * (minInv - maxInv)) ** rho));
}

/** Log-uniform sigmas (k-diffusion get_sigmas_exponential), plus a final 0. */
export function exponentialSigmas(steps: number, sigmaMin: number, sigmaMax: number): Float64Array {
  checkSteps(steps);
  return withZero(linspace(Math.log(sigmaMax), Math.log(sigmaMin), steps).map(Math.exp));
}

/** Polynomial in log sigma (k-diffusion get_sigmas_polyexponential), plus a final 0. */
export function polyexponentialSigmas(steps: number, sigmaMin: number, sigmaMax: number, rho = 1): Float64Array {
  checkSteps(steps);
  const lmin = Math.log(sigmaMin);
  const lmax = Math.log(sigmaMax);
  return withZero(linspace(1, 0, steps).map((r) => Math.exp(r ** rho * (lmax - lmin) + lmin)));
}

/** Timesteps uniform from t(sigma_max) to t(sigma_min), mapped to sigma (ComfyUI normal_scheduler). */
function timestepUniform(ms: ModelSampling, steps: number, sgm: boolean): Float64Array {
  checkSteps(steps);
  const start = ms.sigmaToTimestep(ms.sigmaMax);
  const end = ms.sigmaToTimestep(ms.sigmaMin);
  if (sgm) return withZero(linspace(start, end, steps + 1).subarray(0, steps).map((t) => ms.timestepToSigma(t)));
  // NOTE: a zero-terminal-SNR table already ends in (almost) 0, so ComfyUI adds a step instead of a 0.
  if (Math.abs(ms.timestepToSigma(end)) <= 1e-5) return linspace(start, end, steps + 1).map((t) => ms.timestepToSigma(t));
  return withZero(linspace(start, end, steps).map((t) => ms.timestepToSigma(t)));
}

/** ComfyUI normal_scheduler. */
export const normalScheduler: Scheduler = (ms, steps) => timestepUniform(ms, steps, false);

/** ComfyUI sgm_uniform: linspace(t_max, t_min, N + 1)[:-1] (SGM / SDXL-Turbo style). */
export const sgmUniformScheduler: Scheduler = (ms, steps) => timestepUniform(ms, steps, true);

/** ComfyUI simple_scheduler: every (len / N)-th table entry from the top. */
export const simpleScheduler: Scheduler = (ms, steps) => {
  checkSteps(steps);
  const table = ms.sigmas;
  const ss = table.length / steps;
  const out = new Float64Array(steps + 1);
  for (let x = 0; x < steps; x++) out[x] = table[table.length - 1 - Math.floor(x * ss)];
  return out;
};

/** ComfyUI ddim_scheduler: table entries 1, 1 + k, ... (k = len // N), reversed, then 0. */
export const ddimUniformScheduler: Scheduler = (ms, steps) => {
  checkSteps(steps);
  if (steps === 0) return new Float64Array([0]);
  const table = ms.sigmas;
  const sigs: number[] = [];
  let n = steps;
  let x = 1;
  if (Math.abs(table[x]) <= 1e-5) n += 1;
  else sigs.push(0);
  const ss = Math.max(Math.floor(table.length / n), 1);
  while (x < table.length) {
    sigs.push(table[x]);
    x += ss;
  }
  return Float64Array.from(sigs.reverse());
};

/**
 * ComfyUI beta_scheduler (Lee et al. 2024, "Beta Sampling is All You Need", arXiv:2407.12173): table indices
 * rint(ppf(1 - i/N) * (len - 1)), repeats dropped, then 0.
 */
export function betaScheduler(ms: ModelSampling, steps: number, alpha = 0.6, beta = 0.6): Float64Array {
  checkSteps(steps);
  const total = ms.sigmas.length - 1;
  const sigs: number[] = [];
  let last = -1;
  for (let i = 0; i < steps; i++) {
    const t = rint(betaPpf(1 - i / steps, alpha, beta) * total);
    if (t !== last) sigs.push(ms.sigmas[t]);
    last = t;
  }
  return withZero(sigs);
}

/** KL-optimal schedule of Align Your Steps (Sabour et al. 2024): tan of a linear blend of atan(sigma). */
export function klOptimalSigmas(steps: number, sigmaMin: number, sigmaMax: number): Float64Array {
  checkSteps(steps);
  const out = new Float64Array(steps + 1);
  for (let i = 0; i < steps; i++) {
    const w = steps === 1 ? 0 : i / (steps - 1);
    out[i] = Math.tan(w * Math.atan(sigmaMin) + (1 - w) * Math.atan(sigmaMax));
  }
  return out;
}

/** ComfyUI linear_quadratic_schedule (genmo Mochi): linear then quadratic in 1 - sigma, scaled by sigma_max. */
export function linearQuadraticScheduler(ms: ModelSampling, steps: number, thresholdNoise = 0.025, linearSteps?: number): Float64Array {
  checkSteps(steps);
  let schedule: number[];
  if (steps === 1) schedule = [1, 0];
  else {
    const ls = linearSteps ?? Math.floor(steps / 2);
    const linear = Array.from({ length: ls }, (_, i) => (i * thresholdNoise) / ls);
    const diff = ls - thresholdNoise * steps;
    const qs = steps - ls;
    const qCoef = diff / (ls * qs ** 2);
    const lCoef = thresholdNoise / ls - (2 * diff) / qs ** 2;
    const c = qCoef * ls ** 2;
    const quadratic = Array.from({ length: steps - ls }, (_, k) => {
      const i = ls + k;
      return qCoef * i * i + lCoef * i + c;
    });
    schedule = [...linear, ...quadratic, 1].map((v) => 1 - v);
  }
  return Float64Array.from(schedule, (v) => v * ms.sigmaMax);
}

export const karrasScheduler: Scheduler = (ms, steps) => karrasSigmas(steps, ms.sigmaMin, ms.sigmaMax);
export const exponentialScheduler: Scheduler = (ms, steps) => exponentialSigmas(steps, ms.sigmaMin, ms.sigmaMax);
export const klOptimalScheduler: Scheduler = (ms, steps) => klOptimalSigmas(steps, ms.sigmaMin, ms.sigmaMax);
export const betaDefaultScheduler: Scheduler = (ms, steps) => betaScheduler(ms, steps);
export const linearQuadraticDefaultScheduler: Scheduler = (ms, steps) => linearQuadraticScheduler(ms, steps);
