import { Tensor } from '../../runtime/tensor.js';
import { DenoiserShapeError, type Denoiser, type SamplerOptions } from './types.js';

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
    const d = await this.denoiser(this.tensor(x), sigma);
    if (d.size !== x.length || d.shape.length !== this.shape.length || d.shape.some((v, i) => v !== this.shape[i])) {
      throw new DenoiserShapeError(`denoiser returned ${d.describe()} for input [${this.shape.join(',')}]`);
    }
    return d.data;
  }

  /** A fresh standard-normal draw of the latent's shape. */
  noise(): Float32Array {
    const n = this.opts.noise(this.shape);
    if (n.size !== sizeOfShape(this.shape)) throw new DenoiserShapeError(`noise source returned ${n.describe()}`);
    return n.data;
  }

  /**
   * The DPM-Solver++ multistep SDE noise term (k-diffusion sample_dpmpp_2m_sde / 3m_sde): adds
   * sigmaNext * sqrt(1 - e^(-2 h eta)) * s_noise times a fresh draw to `x`, when eta and s_noise allow.
   */
  addSdeNoise(x: Float32Array, sigmaNext: number, h: number): void {
    if (!(this.eta > 0 && this.sNoise > 0)) return;
    const n = this.noise();
    const amp = sigmaNext * Math.sqrt(-Math.expm1(-2 * h * this.eta)) * this.sNoise;
    for (let k = 0; k < x.length; k++) x[k] += n[k] * amp;
  }

  async step(i: number, x: Float32Array, denoised: Float32Array): Promise<void> {
    if (!this.opts.onStep) return;
    await this.opts.onStep({
      i,
      total: this.total,
      x: this.tensor(x),
      denoised: this.tensor(denoised),
      sigma: this.sigmas[i],
      sigmaNext: this.sigmas[i + 1],
    });
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
