/** KSampler and KSamplerAdvanced (ComfyUI nodes.py common_ksampler; comfy/samplers.py KSampler sigma rules). */
import { COMBO, FLOAT, INT, defineNode } from '../../engine/index.js';
import { prepareNoise } from '../../sampling/noise.js';
import { SAMPLERS, SAMPLER_NAMES, type SamplerName } from '../../sampling/samplers/index.js';
import { SCHEDULER_NAMES, ksamplerSigmas, sliceSigmasForSteps } from '../../sampling/schedulers/index.js';
import { Tensor } from '../../runtime/tensor.js';
import { CONDITIONING, LATENT, MODEL, type Latent } from '../../sockets/index.js';
import { sampleLatent, type SampleContext } from './sample.js';
import { samplerWorkBytes } from './memory-rules.js';
import type { Conditioning, DiffusionModel } from '../../sockets/index.js';

export const SEED_MAX = 2n ** 64n - 1n;

export const seedInput = (tooltip?: string) => INT({ default: 0, min: 0, max: SEED_MAX, controlAfterGenerate: true, tooltip });
export const cfgInput = () =>
  FLOAT({ default: 8.0, min: 0.0, max: 100.0, step: 0.1, round: 0.01, tooltip: 'The Classifier-Free Guidance scale balances creativity and adherence to the prompt.' });
export const stepsInput = () => INT({ default: 20, min: 1, max: 10000, tooltip: 'The number of steps used in the denoising process.' });
export const samplerNameInput = () => COMBO(SAMPLER_NAMES, { tooltip: 'The algorithm used when sampling.' });
export const schedulerInput = () => COMBO(SCHEDULER_NAMES, { tooltip: 'The scheduler controls how noise is gradually removed to form the image.' });

export interface KSamplerArgs {
  model: DiffusionModel;
  seed: bigint;
  steps: number;
  cfg: number;
  samplerName: SamplerName;
  scheduler: string;
  positive: Conditioning;
  negative: Conditioning;
  latent: Latent;
  denoise: number;
  disableNoise?: boolean;
  startStep?: number;
  lastStep?: number;
  forceFullDenoise?: boolean;
}

/** ComfyUI common_ksampler: noise from the seed (one tensor per batch), sigmas by KSampler's rules. */
export async function commonKSampler(ctx: SampleContext, a: KSamplerArgs): Promise<Latent> {
  const noise = a.disableNoise ? Tensor.zeros(a.latent.samples.shape) : prepareNoise(a.latent.samples, a.seed, a.latent.batch_index);
  const full = ksamplerSigmas(a.model.sampling, a.scheduler, a.samplerName, a.steps, a.denoise);
  const sigmas = sliceSigmasForSteps(full, a.startStep, a.lastStep, a.forceFullDenoise ?? false);
  if (sigmas === null) return a.latent;
  const { samples } = await sampleLatent(ctx, {
    model: a.model,
    positive: a.positive,
    negative: a.negative,
    cfg: a.cfg,
    latent: a.latent,
    sigmas,
    sampler: { name: a.samplerName, fn: SAMPLERS[a.samplerName] },
    noise,
    seed: a.seed,
  });
  return { ...a.latent, samples };
}

export const KSampler = defineNode({
  type: 'KSampler',
  category: 'sampling',
  version: '1.0.0',
  description: 'Uses the provided model, positive and negative conditioning to denoise the latent image.',
  inputs: {
    model: MODEL,
    seed: seedInput('The random seed used for creating the noise.'),
    steps: stepsInput(),
    cfg: cfgInput(),
    sampler_name: samplerNameInput(),
    scheduler: schedulerInput(),
    positive: CONDITIONING,
    negative: CONDITIONING,
    latent_image: LATENT,
    denoise: FLOAT({ default: 1.0, min: 0.0, max: 1.0, step: 0.01, tooltip: 'The amount of denoising applied, lower values will maintain the structure of the initial image allowing for image to image sampling.' }),
  },
  outputs: { LATENT },
  infer: (_v, { latent_image }) => ({ LATENT: latent_image }),
  workBytes: (_v, { latent_image }) => samplerWorkBytes(latent_image),
  async run(ctx, i) {
    const latent = await commonKSampler(ctx, {
      model: i.model, seed: i.seed, steps: i.steps, cfg: i.cfg, samplerName: i.sampler_name, scheduler: i.scheduler,
      positive: i.positive, negative: i.negative, latent: i.latent_image, denoise: i.denoise,
    });
    return { LATENT: latent };
  },
});

export const KSamplerAdvanced = defineNode({
  type: 'KSamplerAdvanced',
  displayName: 'KSampler (Advanced)',
  category: 'sampling',
  version: '1.0.0',
  inputs: {
    model: MODEL,
    add_noise: COMBO(['enable', 'disable']),
    noise_seed: seedInput(),
    steps: stepsInput(),
    cfg: cfgInput(),
    sampler_name: samplerNameInput(),
    scheduler: schedulerInput(),
    positive: CONDITIONING,
    negative: CONDITIONING,
    latent_image: LATENT,
    start_at_step: INT({ default: 0, min: 0, max: 10000 }),
    end_at_step: INT({ default: 10000, min: 0, max: 10000 }),
    return_with_leftover_noise: COMBO(['disable', 'enable']),
  },
  outputs: { LATENT },
  infer: (_v, { latent_image }) => ({ LATENT: latent_image }),
  workBytes: (_v, { latent_image }) => samplerWorkBytes(latent_image),
  async run(ctx, i) {
    const latent = await commonKSampler(ctx, {
      model: i.model, seed: i.noise_seed, steps: i.steps, cfg: i.cfg, samplerName: i.sampler_name, scheduler: i.scheduler,
      positive: i.positive, negative: i.negative, latent: i.latent_image, denoise: 1.0,
      disableNoise: i.add_noise === 'disable', startStep: i.start_at_step, lastStep: i.end_at_step,
      forceFullDenoise: i.return_with_leftover_noise !== 'enable',
    });
    return { LATENT: latent };
  },
});
