import type { ModelSampling } from '../model-sampling.js';
import {
  InvalidStepsError,
  type Scheduler,
  betaDefaultScheduler,
  ddimUniformScheduler,
  exponentialScheduler,
  karrasScheduler,
  klOptimalScheduler,
  linearQuadraticDefaultScheduler,
  normalScheduler,
  sgmUniformScheduler,
  simpleScheduler,
} from './schedules.js';

/** Thrown for a scheduler name that is not in SCHEDULERS. */
export class UnknownSchedulerError extends Error {
  override readonly name = 'UnknownSchedulerError';
}

/** Scheduler name -> function, in ComfyUI's SCHEDULER_NAMES order (the only registry of schedulers). */
export const SCHEDULERS = {
  simple: simpleScheduler,
  sgm_uniform: sgmUniformScheduler,
  karras: karrasScheduler,
  exponential: exponentialScheduler,
  ddim_uniform: ddimUniformScheduler,
  beta: betaDefaultScheduler,
  normal: normalScheduler,
  linear_quadratic: linearQuadraticDefaultScheduler,
  kl_optimal: klOptimalScheduler,
} as const satisfies Record<string, Scheduler>;

export type SchedulerName = keyof typeof SCHEDULERS;
export const SCHEDULER_NAMES: readonly SchedulerName[] = Object.freeze(Object.keys(SCHEDULERS).filter(isSchedulerName));

export function isSchedulerName(name: string): name is SchedulerName {
  return Object.prototype.hasOwnProperty.call(SCHEDULERS, name);
}

/** Samplers for which KSampler computes one extra step and drops the penultimate sigma (ComfyUI KSampler). */
export const DISCARD_PENULTIMATE_SIGMA_SAMPLERS: ReadonlySet<string> = new Set(['dpm_2', 'dpm_2_ancestral', 'uni_pc', 'uni_pc_bh2']);

/** ComfyUI KSampler.calculate_sigmas: the schedule, with the penultimate-sigma rule applied. */
export function calculateSigmas(ms: ModelSampling, scheduler: string, sampler: string, steps: number): Float64Array {
  if (!isSchedulerName(scheduler)) throw new UnknownSchedulerError(`unknown scheduler '${scheduler}'`);
  const discard = DISCARD_PENULTIMATE_SIGMA_SAMPLERS.has(sampler);
  const sigmas = SCHEDULERS[scheduler](ms, discard ? steps + 1 : steps);
  if (!discard || sigmas.length < 2) return sigmas;
  const out = new Float64Array(sigmas.length - 1);
  out.set(sigmas.subarray(0, sigmas.length - 2));
  out[out.length - 1] = sigmas[sigmas.length - 1];
  return out;
}

/**
 * ComfyUI KSampler.set_steps: denoise >= 1 (above 0.9999) gives the full schedule; 0 < denoise < 1 computes
 * floor(steps / denoise) steps and keeps the last steps + 1 sigmas; denoise <= 0 gives no sigmas.
 */
export function ksamplerSigmas(ms: ModelSampling, scheduler: string, sampler: string, steps: number, denoise = 1): Float64Array {
  if (!Number.isInteger(steps) || steps < 0) throw new InvalidStepsError(`steps must be a non-negative integer, got ${steps}`);
  if (denoise > 0.9999) return calculateSigmas(ms, scheduler, sampler, steps);
  if (denoise <= 0) return new Float64Array(0);
  const sigmas = calculateSigmas(ms, scheduler, sampler, Math.floor(steps / denoise));
  return sigmas.slice(Math.max(0, sigmas.length - (steps + 1)));
}

/**
 * KSamplerAdvanced's step window (ComfyUI comfy/samplers.py KSampler.sample): cut at end_step (forcing the
 * last sigma to 0 when force_full_denoise), then start at start_step. Returns null when start_step leaves
 * nothing to sample, in which case the node returns the input latent unchanged.
 */
export function sliceSigmasForSteps(
  sigmas: Float64Array,
  startStep?: number,
  lastStep?: number,
  forceFullDenoise = false,
): Float64Array | null {
  let out = sigmas.slice();
  if (lastStep !== undefined && lastStep < out.length - 1) {
    out = out.slice(0, lastStep + 1);
    if (forceFullDenoise) out[out.length - 1] = 0;
  }
  if (startStep !== undefined) {
    if (startStep < out.length - 1) out = out.slice(startStep);
    else return null;
  }
  return out;
}

/** ComfyUI SDTurboScheduler: timesteps 999, 899, ... starting at 10 - int(10 * denoise), then 0. */
export function sdTurboSigmas(ms: ModelSampling, steps: number, denoise = 1): Float64Array {
  if (!Number.isInteger(steps) || steps < 1) throw new InvalidStepsError(`steps must be a positive integer, got ${steps}`);
  const start = 10 - Math.trunc(10 * denoise);
  const timesteps = Array.from({ length: 10 }, (_, i) => (10 - i) * 100 - 1).slice(start, start + steps);
  return Float64Array.from([...timesteps.map((t) => ms.timestepToSigma(t)), 0]);
}
