import { sampleDdim, sampleEuler, sampleEulerAncestral } from './euler.js';
import { sampleDpm2, sampleDpm2Ancestral, sampleHeun } from './heun.js';
import { sampleLms } from './lms.js';
import { sampleDpmpp2m, sampleDpmpp2mSde, sampleDpmppSde } from './dpmpp.js';
import { sampleLcm } from './lcm.js';
import { sampleUniPc, sampleUniPcBh2 } from './uni-pc.js';
import type { Sampler } from './types.js';

/** Sampler name -> function, in ComfyUI's SAMPLER_NAMES order; the only registry of samplers. */
export const SAMPLERS = {
  euler: sampleEuler,
  euler_ancestral: sampleEulerAncestral,
  heun: sampleHeun,
  dpm_2: sampleDpm2,
  dpm_2_ancestral: sampleDpm2Ancestral,
  lms: sampleLms,
  dpmpp_sde: sampleDpmppSde,
  dpmpp_2m: sampleDpmpp2m,
  dpmpp_2m_sde: sampleDpmpp2mSde,
  lcm: sampleLcm,
  ddim: sampleDdim,
  uni_pc: sampleUniPc,
  uni_pc_bh2: sampleUniPcBh2,
} as const satisfies Record<string, Sampler>;

export type SamplerName = keyof typeof SAMPLERS;

export function isSamplerName(name: string): name is SamplerName {
  return Object.prototype.hasOwnProperty.call(SAMPLERS, name);
}

export const SAMPLER_NAMES: readonly SamplerName[] = Object.freeze(Object.keys(SAMPLERS).filter(isSamplerName));

/** Samplers that draw fresh noise during sampling (and so need the seeded noise source). */
export const STOCHASTIC_SAMPLERS: ReadonlySet<SamplerName> = new Set<SamplerName>([
  'euler_ancestral', 'dpm_2_ancestral', 'dpmpp_sde', 'dpmpp_2m_sde', 'lcm',
]);

export type { Denoiser, Sampler, SamplerOptions, StepInfo } from './types.js';
export { DenoiserShapeError } from './types.js';
export { ancestralStep } from './common.js';
export { linearMultistepCoeff, makeLms } from './lms.js';
export { makeUniPc, type UniPcVariant } from './uni-pc.js';
export {
  sampleDdim, sampleEuler, sampleEulerAncestral, sampleDpm2, sampleDpm2Ancestral, sampleHeun, sampleLms,
  sampleDpmpp2m, sampleDpmpp2mSde, sampleDpmppSde, sampleLcm, sampleUniPc, sampleUniPcBh2,
};
export * as vector from './vector.js';
