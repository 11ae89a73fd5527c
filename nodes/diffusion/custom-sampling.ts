/**
 * The custom-sampling family (ComfyUI comfy_extras/nodes_custom_sampler.py): samplers, schedules, noise
 * and guiders as values, combined by SamplerCustom / SamplerCustomAdvanced.
 */
import { BOOLEAN, COMBO, FLOAT, INT, defineNode, type NodeContext } from '../../engine/index.js';
import { Tensor } from '../../runtime/tensor.js';
import { prepareNoise } from '../../sampling/noise.js';
import { SAMPLERS, SAMPLER_NAMES } from '../../sampling/samplers/index.js';
import { SCHEDULERS, SCHEDULER_NAMES, karrasSigmas, sdTurboSigmas } from '../../sampling/schedulers/index.js';
import { CONDITIONING, LATENT, MODEL, type Latent } from '../../sockets/index.js';
import { GUIDER, NOISE, SAMPLER, SIGMAS } from './sockets.js';
import { cfgInput, schedulerInput, seedInput } from './ksampler.js';
import { sampleLatent } from './sample.js';
import type { Guider, NoiseSource, SamplerChoice } from './types.js';

export const KSamplerSelect = defineNode({
  type: 'KSamplerSelect',
  category: 'sampling/custom_sampling/samplers',
  version: '1.0.0',
  inputs: { sampler_name: COMBO(SAMPLER_NAMES) },
  outputs: { SAMPLER },
  run: (_ctx, { sampler_name }) => ({ SAMPLER: { name: sampler_name, fn: SAMPLERS[sampler_name] } }),
});

export const BasicScheduler = defineNode({
  type: 'BasicScheduler',
  category: 'sampling/custom_sampling/schedulers',
  version: '1.0.0',
  inputs: {
    model: MODEL,
    scheduler: schedulerInput(),
    steps: INT({ default: 20, min: 1, max: 10000 }),
    denoise: FLOAT({ default: 1.0, min: 0.0, max: 1.0, step: 0.01 }),
  },
  outputs: { SIGMAS },
  run: (_ctx, { model, scheduler, steps, denoise }) => {
    let total = steps;
    if (denoise < 1.0) {
      if (denoise <= 0.0) return { SIGMAS: new Float64Array(0) };
      total = Math.trunc(steps / denoise);
    }
    const sigmas = SCHEDULERS[scheduler](model.sampling, total);
    return { SIGMAS: sigmas.slice(Math.max(0, sigmas.length - (steps + 1))) };
  },
});

export const KarrasScheduler = defineNode({
  type: 'KarrasScheduler',
  category: 'sampling/custom_sampling/schedulers',
  version: '1.0.0',
  inputs: {
    steps: INT({ default: 20, min: 1, max: 10000 }),
    sigma_max: FLOAT({ default: 14.614642, min: 0.0, max: 5000.0, step: 0.01, round: false }),
    sigma_min: FLOAT({ default: 0.0291675, min: 0.0, max: 5000.0, step: 0.01, round: false }),
    rho: FLOAT({ default: 7.0, min: 0.0, max: 100.0, step: 0.01, round: false }),
  },
  outputs: { SIGMAS },
  run: (_ctx, { steps, sigma_max, sigma_min, rho }) => ({ SIGMAS: karrasSigmas(steps, sigma_min, sigma_max, rho) }),
});

export const SDTurboScheduler = defineNode({
  type: 'SDTurboScheduler',
  category: 'sampling/custom_sampling/schedulers',
  version: '1.0.0',
  inputs: {
    model: MODEL,
    steps: INT({ default: 1, min: 1, max: 10 }),
    denoise: FLOAT({ default: 1.0, min: 0, max: 1.0, step: 0.01 }),
  },
  outputs: { SIGMAS },
  run: (_ctx, { model, steps, denoise }) => ({ SIGMAS: sdTurboSigmas(model.sampling, steps, denoise) }),
});

export const SplitSigmas = defineNode({
  type: 'SplitSigmas',
  category: 'sampling/custom_sampling/sigmas',
  version: '1.0.0',
  inputs: { sigmas: SIGMAS, step: INT({ default: 0, min: 0, max: 10000 }) },
  outputs: { high_sigmas: SIGMAS, low_sigmas: SIGMAS },
  run: (_ctx, { sigmas, step }) => ({ high_sigmas: sigmas.slice(0, step + 1), low_sigmas: sigmas.slice(step) }),
});

/** ComfyUI Noise_RandomNoise: prepare_noise with the latent's batch indices. */
export function randomNoise(seed: bigint | number): NoiseSource {
  return { seed, generate: (samples, batchIndex) => prepareNoise(samples, seed, batchIndex) };
}

/** ComfyUI Noise_EmptyNoise. */
export const EMPTY_NOISE: NoiseSource = { seed: 0, generate: (samples) => Tensor.zeros(samples.shape) };

export const RandomNoise = defineNode({
  type: 'RandomNoise',
  category: 'sampling/custom_sampling/noise',
  version: '1.0.0',
  inputs: { noise_seed: seedInput() },
  outputs: { NOISE },
  run: (_ctx, { noise_seed }) => ({ NOISE: randomNoise(noise_seed) }),
});

export const DisableNoise = defineNode({
  type: 'DisableNoise',
  category: 'sampling/custom_sampling/noise',
  version: '1.0.0',
  inputs: {},
  outputs: { NOISE },
  run: () => ({ NOISE: EMPTY_NOISE }),
});

export const CFGGuider = defineNode({
  type: 'CFGGuider',
  category: 'sampling/custom_sampling/guiders',
  version: '1.0.0',
  inputs: { model: MODEL, positive: CONDITIONING, negative: CONDITIONING, cfg: cfgInput() },
  outputs: { GUIDER },
  run: (_ctx, { model, positive, negative, cfg }) => ({ GUIDER: { model, positive, negative, cfg } }),
});

export const BasicGuider = defineNode({
  type: 'BasicGuider',
  category: 'sampling/custom_sampling/guiders',
  version: '1.0.0',
  inputs: { model: MODEL, conditioning: CONDITIONING },
  outputs: { GUIDER },
  run: (_ctx, { model, conditioning }) => ({ GUIDER: { model, positive: conditioning, cfg: 1.0 } }),
});

/** Runs a guider over sigmas from a noise source; returns (output, denoised_output). */
export async function sampleCustom(ctx: NodeContext, noise: NoiseSource, guider: Guider, sampler: SamplerChoice, sigmas: Float64Array, latent: Latent) {
  const n = noise.generate(latent.samples, latent.batch_index);
  const res = await sampleLatent(ctx, {
    model: guider.model, positive: guider.positive, negative: guider.negative, cfg: guider.cfg,
    latent, sigmas, sampler, noise: n, seed: noise.seed,
  });
  return { output: { ...latent, samples: res.samples }, denoised_output: { ...latent, samples: res.denoised } };
}

export const SamplerCustom = defineNode({
  type: 'SamplerCustom',
  category: 'sampling/custom_sampling',
  version: '1.0.0',
  inputs: {
    model: MODEL,
    add_noise: BOOLEAN({ default: true }),
    noise_seed: seedInput(),
    cfg: cfgInput(),
    positive: CONDITIONING,
    negative: CONDITIONING,
    sampler: SAMPLER,
    sigmas: SIGMAS,
    latent_image: LATENT,
  },
  outputs: { output: LATENT, denoised_output: LATENT },
  infer: (_v, { latent_image }) => ({ output: latent_image, denoised_output: latent_image }),
  run: (ctx, i) =>
    sampleCustom(ctx, i.add_noise ? randomNoise(i.noise_seed) : { ...EMPTY_NOISE, seed: i.noise_seed }, { model: i.model, positive: i.positive, negative: i.negative, cfg: i.cfg }, i.sampler, i.sigmas, i.latent_image),
});

export const SamplerCustomAdvanced = defineNode({
  type: 'SamplerCustomAdvanced',
  category: 'sampling/custom_sampling',
  version: '1.0.0',
  inputs: { noise: NOISE, guider: GUIDER, sampler: SAMPLER, sigmas: SIGMAS, latent_image: LATENT },
  outputs: { output: LATENT, denoised_output: LATENT },
  infer: (_v, { latent_image }) => ({ output: latent_image, denoised_output: latent_image }),
  run: (ctx, i) => sampleCustom(ctx, i.noise, i.guider, i.sampler, i.sigmas, i.latent_image),
});
