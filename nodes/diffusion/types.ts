/** The values only diffusion nodes pass along their sockets (SAMPLER, NOISE, GUIDER). */
import type { Sampler } from '../../sampling/samplers/index.js';
import type { Tensor } from '../../runtime/tensor.js';
import type { Conditioning, DiffusionModel } from '../../sockets/index.js';

export interface SamplerChoice {
  readonly name: string;
  readonly fn: Sampler;
}

/** NOISE: the initial noise of SamplerCustomAdvanced. */
export interface NoiseSource {
  readonly seed: bigint | number;
  /** The initial noise for a latent (zeros when disabled). */
  generate(samples: Tensor, batchIndex?: readonly number[]): Tensor;
}

/** GUIDER: the model and how its conditionings combine. */
export interface Guider {
  readonly model: DiffusionModel;
  readonly positive: Conditioning;
  /** Absent for BasicGuider (no unconditional pass). */
  readonly negative?: Conditioning;
  readonly cfg: number;
}
