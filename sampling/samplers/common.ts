import { Tensor } from '../../runtime/tensor.js';
import { BrownianTreeNoiseSampler } from '../brownian.js';
import { TorchGenerator, seedTo32 } from '../noise.js';
import { DenoiserShapeError, NoiseSourceError, type Denoiser, type SamplerOptions } from './types.js';

/** Wraps a sampler's model calls, noise draws and step reports over raw Float32Arrays of one shape. */
export class SamplerContext {
  readonly shape: readonly number[];
  readonly total: number;
  readonly eta: number;
  readonly sNoise: number;

  constructor(
    private readonly denoiser: Denoiser,
    x: Tensor,
    readonly sigmas: Float64Array,
    private readonly opts: SamplerOptions,
  ) {
    this.shape = x.shape;
    this.total = Math.max(0, sigmas.length - 1);
    this.eta = opts.eta ?? 1;
    this.sNoise = opts.sNoise ?? 1;
  }

  tensor(data: Float32Array): Tensor {
    return new Tensor('float32', data, this.shape);
  }

  /** D(x, sigma), after checking the abort signal. */
  async denoise(x: Float32Array, sigma: number): Promise<Float32Array> {
    this.opts.signal?.throwIfAborted();
    return this.checked(await this.denoiser(this.tensor(x), sigma));
  }

  /**
   * The guided estimate and the unconditional one (CFG++ samplers). A denoiser without an unconditional pass
   * (BasicGuider, tests) gives its only estimate for both, which turns each CFG++ sampler into its plain twin;
   * ComfyUI would use zeros there (calc_cond_batch's empty sum).
   */
  async denoiseWithUncond(x: Float32Array, sigma: number): Promise<{ denoised: Float32Array; uncond: Float32Array }> {
    if (!this.denoiser.withUncond) {
      const d = await this.denoise(x, sigma);
      return { denoised: d, uncond: d };
    }
    this.opts.signal?.throwIfAborted();
    const r = await this.denoiser.withUncond(this.tensor(x), sigma);
    return { denoised: this.checked(r.denoised), uncond: this.checked(r.uncond) };
  }

  private checked(d: Tensor): Float32Array {
    if (d.size !== sizeOfShape(this.shape) || d.shape.length !== this.shape.length || d.shape.some((v, i) => v !== this.shape[i])) {
      throw new DenoiserShapeError(`denoiser returned ${d.describe()} for input [${this.shape.join(',')}]`);
    }
    return d.data;
  }

  private ancestralGen: TorchGenerator | undefined;
  private brownian: BrownianTreeNoiseSampler | undefined;

  private custom(): Float32Array {
    const n = this.opts.noise!(this.shape);
    if (n.size !== sizeOfShape(this.shape)) throw new DenoiserShapeError(`noise source returned ${n.describe()}`);
    return n.data;
  }

  private requireSeed(): NonNullable<SamplerOptions['seed']> {
    if (this.opts.seed === undefined) throw new NoiseSourceError('this sampler draws noise: give it a seed or a noise source');
    return this.opts.seed;
  }

  /**
   * The ancestral samplers' noise (ComfyUI default_noise_sampler): one torch.randn of the latent's shape, the whole
   * batch at once, per draw, from a CPU generator seeded once with seed + 1. ComfyUI adds the 1 on the CPU so that
   * the per-step noise does not repeat the initial noise, which prepare_noise draws from the seed itself.
   */
  ancestralNoise(): Float32Array {
    if (this.opts.noise) return this.custom();
    this.ancestralGen ??= new TorchGenerator((seedTo32(this.requireSeed()) + 1) >>> 0);
    return this.ancestralGen.randn(this.shape).data;
  }

  /**
   * The SDE samplers' noise for the step sigma -> sigmaNext (ComfyUI BrownianTreeNoiseSampler): one Brownian tree
   * over [smallest positive sigma, largest sigma] of the schedule, with the seed as entropy, for the whole batch.
   */
  brownianNoise(sigma: number, sigmaNext: number): Float32Array {
    if (this.opts.noise) return this.custom();
    if (!this.brownian) {
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of this.sigmas) {
        if (v > 0) lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      this.brownian = new BrownianTreeNoiseSampler(this.shape, lo, hi, this.requireSeed());
    }
    return this.brownian.sample(sigma, sigmaNext);
  }

  /**
   * The ancestral noise term, x += n * scale with a fresh ancestral draw n (euler_ancestral, dpm_2_ancestral and
   * dpmpp_2s_ancestral with scale s_noise * sigma_up; ddpm with the posterior standard deviation; lcm with sigma_next).
   */
  addAncestralNoise(x: Float32Array, scale: number): void {
    const n = this.ancestralNoise();
    for (let k = 0; k < x.length; k++) x[k] += n[k] * scale;
  }

  /** x += n * scale with the Brownian draw n for the step sigma -> sigmaNext (dpmpp_sde). */
  addBrownianNoise(x: Float32Array, sigma: number, sigmaNext: number, scale: number): void {
    const n = this.brownianNoise(sigma, sigmaNext);
    for (let k = 0; k < x.length; k++) x[k] += n[k] * scale;
  }

  /**
   * The DPM-Solver++ multistep SDE noise term (k-diffusion sample_dpmpp_2m_sde / 3m_sde): adds
   * sigmaNext * sqrt(1 - e^(-2 h eta)) * s_noise times the Brownian draw for sigma -> sigmaNext to `x`, when eta and
   * s_noise allow.
   */
  addSdeNoise(x: Float32Array, sigma: number, sigmaNext: number, h: number): void {
    if (!(this.eta > 0 && this.sNoise > 0)) return;
    this.addBrownianNoise(x, sigma, sigmaNext, sigmaNext * Math.sqrt(-Math.expm1(-2 * h * this.eta)) * this.sNoise);
  }

  async step(i: number, x: Float32Array, denoised: Float32Array): Promise<void> {
    await this.stepAt(i, this.total, x, denoised, this.sigmas[i], this.sigmas[i + 1]);
  }

  /** A step report for samplers whose steps are not the schedule's (dpm_fast, dpm_adaptive). */
  async stepAt(i: number, total: number, x: Float32Array, denoised: Float32Array, sigma: number, sigmaNext: number): Promise<void> {
    if (!this.opts.onStep) return;
    await this.opts.onStep({ i, total, x: this.tensor(x), denoised: this.tensor(denoised), sigma, sigmaNext });
  }
}

function sizeOfShape(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * k-diffusion get_ancestral_step: split the step to sigmaTo into a deterministic part down to sigmaDown
 * and fresh noise of size sigmaUp.
 */
export function ancestralStep(sigmaFrom: number, sigmaTo: number, eta = 1): { sigmaDown: number; sigmaUp: number } {
  if (!eta) return { sigmaDown: sigmaTo, sigmaUp: 0 };
  const sigmaUp = Math.min(sigmaTo, eta * Math.sqrt((sigmaTo ** 2 * (sigmaFrom ** 2 - sigmaTo ** 2)) / sigmaFrom ** 2));
  const sigmaDown = Math.sqrt(Math.max(0, sigmaTo ** 2 - sigmaUp ** 2));
  return { sigmaDown, sigmaUp };
}
