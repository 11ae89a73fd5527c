/**
 * UNetStep, a latentflow node: one sampler step from sigma_from to sigma_to, so a sampling loop can be
 * drawn and inspected step by step. The latent holds x at sigma_from in VAE units (as KSamplerAdvanced
 * returns it with leftover noise); multistep samplers run their first-order start on a single step.
 */
import { FLOAT, defineNode } from '../../engine/index.js';
import { CONDITIONING, LATENT, MODEL } from '../../sockets/index.js';
import { SAMPLER } from './sockets.js';
import { cfgInput, seedInput } from './ksampler.js';
import { sampleLatent } from './sample.js';

/** Thrown when a step would go up in noise. */
export class SigmaOrderError extends Error {
  override readonly name = 'SigmaOrderError';
}

export const UNetStep = defineNode({
  type: 'UNetStep',
  displayName: 'U-Net Step',
  category: 'sampling/custom_sampling',
  version: '1.0.0',
  description: 'One denoising step of a sampler from sigma_from to sigma_to (the latent must already carry noise at sigma_from).',
  inputs: {
    model: MODEL,
    positive: CONDITIONING,
    negative: CONDITIONING,
    cfg: cfgInput(),
    latent: LATENT,
    sigma_from: FLOAT({ default: 14.614642, min: 0.0, max: 5000.0, step: 0.01, round: false }),
    sigma_to: FLOAT({ default: 0.0, min: 0.0, max: 5000.0, step: 0.01, round: false }),
    sampler: SAMPLER,
  },
  optional: { noise_seed: seedInput('Seeds the fresh noise of ancestral and SDE samplers.') },
  outputs: { LATENT },
  infer: (_v, { latent }) => ({ LATENT: latent }),
  async run(ctx, i) {
    if (i.sigma_to > i.sigma_from) throw new SigmaOrderError(`sigma_to ${i.sigma_to} is above sigma_from ${i.sigma_from}`);
    if (i.sigma_from <= 0) return { LATENT: i.latent };
    const { noise_mask: _mask, ...plain } = i.latent;
    const res = await sampleLatent(ctx, {
      model: i.model, positive: i.positive, negative: i.negative, cfg: i.cfg,
      latent: plain, sigmas: Float64Array.from([i.sigma_from, i.sigma_to]), sampler: i.sampler, seed: i.noise_seed ?? 0n,
    });
    return { LATENT: { ...i.latent, samples: res.samples } };
  },
});
