import type { Tensor } from '../../runtime/tensor.js';
import type { Seed } from '../noise.js';

/** The guided estimate and the unconditional one it was guided from, of one model evaluation. */
export interface GuidedDenoised {
  denoised: Tensor;
  uncond: Tensor;
}

/**
 * The model as samplers see it: the denoised estimate D(x, sigma) (k-diffusion convention). `withUncond`, when the
 * denoiser offers it, also returns the unconditional estimate of the same evaluation (what ComfyUI's CFG++ samplers
 * read through a post_cfg_function as args['uncond_denoised']).
 */
export type Denoiser = ((x: Tensor, sigma: number) => Promise<Tensor>) & {
  readonly withUncond?: (x: Tensor, sigma: number) => Promise<GuidedDenoised>;
};

export interface StepInfo {
  i: number;
  total: number;
  /** The latent at sigma (before this step's update), in k-diffusion scaling. */
  x: Tensor;
  denoised: Tensor;
  sigma: number;
  sigmaNext: number;
}

export interface SamplerOptions {
  /**
   * The job's seed, as ComfyUI passes it in extra_args['seed'] (KSampler's seed, SamplerCustom's noise_seed, the NOISE
   * input's seed): ancestral samplers draw from a CPU generator seeded with seed + 1 (default_noise_sampler), SDE
   * samplers from a Brownian tree with the seed as entropy (BrownianTreeNoiseSampler). Unused when `noise` is given.
   */
  seed?: Seed;
  /** A standard-normal source that replaces both of those streams (tests, custom noise). */
  noise?: (shape: readonly number[]) => Tensor;
  /** Called once per step, after the step's first model call. */
  onStep?: (s: StepInfo) => void | Promise<void>;
  /** Checked before each model call; an abort throws signal.reason. */
  signal?: AbortSignal;
  /** Ancestral / SDE noise amount (default 1). */
  eta?: number;
  /** Noise multiplier (default 1). */
  sNoise?: number;
  /**
   * The model's ComfyUI percent_to_sigma (sa_solver's stochastic interval is sigma(0.2)..sigma(0.8)); without it the
   * SD 1.x training schedule's.
   */
  percentToSigma?: (percent: number) => number;
}

export type Sampler = ((denoise: Denoiser, x: Tensor, sigmas: Float64Array, opts: SamplerOptions) => Promise<Tensor>) & {
  /**
   * The sampler reads the unconditional estimate (the CFG++ samplers): the denoiser must offer `withUncond` and run
   * the unconditional pass even at CFG 1 (ComfyUI's disable_cfg1_optimization).
   */
  readonly usesUncond?: boolean;
};

/** Thrown when the denoiser returns a tensor whose shape differs from its input's. */
export class DenoiserShapeError extends Error {
  override readonly name = 'DenoiserShapeError';
}

/** Thrown when a stochastic sampler has neither a seed nor a noise source to draw from. */
export class NoiseSourceError extends Error {
  override readonly name = 'NoiseSourceError';
}

/** Thrown when an adaptive sampler cannot continue (a non-finite error estimate, a vanishing step). */
export class SamplerStepError extends Error {
  override readonly name = 'SamplerStepError';
}
