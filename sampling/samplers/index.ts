import { sampleDdim, sampleEuler, sampleEulerAncestral } from './euler.js';
import { sampleDpm2, sampleDpm2Ancestral, sampleHeun } from './heun.js';
import { sampleLms } from './lms.js';
import { sampleDpmpp2m, sampleDpmpp2mSde, sampleDpmpp2mSdeHeun, sampleDpmppSde } from './dpmpp.js';
import { sampleLcm } from './lcm.js';
import { sampleDpmpp2sAncestral } from './dpmpp-2s-ancestral.js';
import { sampleDpmpp3mSde } from './dpmpp-3m-sde.js';
import { sampleHeunpp2 } from './heunpp2.js';
import { sampleIpndm, sampleIpndmV } from './ipndm.js';
import { sampleDdpm } from './ddpm.js';
import { sampleUniPc, sampleUniPcBh2 } from './uni-pc.js';
import { sampleDpmpp2mCfgPp, sampleDpmpp2sAncestralCfgPp, sampleEulerAncestralCfgPp, sampleEulerCfgPp } from './cfg-pp.js';
import { sampleResMultistep, sampleResMultistepAncestral, sampleResMultistepAncestralCfgPp, sampleResMultistepCfgPp } from './res-multistep.js';
import { sampleGradientEstimation, sampleGradientEstimationCfgPp } from './gradient-estimation.js';
import { sampleExpHeun2X0, sampleExpHeun2X0Sde, sampleSeeds2, sampleSeeds3 } from './seeds.js';
import { sampleErSde } from './er-sde.js';
import { sampleDeis } from './deis.js';
import { sampleDpmAdaptive, sampleDpmFast } from './dpm-solver.js';
import { sampleSaSolver, sampleSaSolverPece } from './sa-solver.js';
import type { Sampler } from './types.js';

/**
 * Sampler name -> function, in ComfyUI's SAMPLER_NAMES order (KSAMPLER_NAMES, then ddim, uni_pc, uni_pc_bh2; checked
 * against comfy/samplers.py of July 2026);
 * the only registry of samplers.
 *
 * The `_gpu` names are the same functions as their plain twins: in ComfyUI they differ only in building the
 * Brownian tree on the GPU instead of the CPU, so on a CPU-only machine both give the same result.
 */
export const SAMPLERS = {
  euler: sampleEuler,
  euler_cfg_pp: sampleEulerCfgPp,
  euler_ancestral: sampleEulerAncestral,
  euler_ancestral_cfg_pp: sampleEulerAncestralCfgPp,
  heun: sampleHeun,
  heunpp2: sampleHeunpp2,
  exp_heun_2_x0: sampleExpHeun2X0,
  exp_heun_2_x0_sde: sampleExpHeun2X0Sde,
  dpm_2: sampleDpm2,
  dpm_2_ancestral: sampleDpm2Ancestral,
  lms: sampleLms,
  dpm_fast: sampleDpmFast,
  dpm_adaptive: sampleDpmAdaptive,
  dpmpp_2s_ancestral: sampleDpmpp2sAncestral,
  dpmpp_2s_ancestral_cfg_pp: sampleDpmpp2sAncestralCfgPp,
  dpmpp_sde: sampleDpmppSde,
  dpmpp_sde_gpu: sampleDpmppSde,
  dpmpp_2m: sampleDpmpp2m,
  dpmpp_2m_cfg_pp: sampleDpmpp2mCfgPp,
  dpmpp_2m_sde: sampleDpmpp2mSde,
  dpmpp_2m_sde_gpu: sampleDpmpp2mSde,
  dpmpp_2m_sde_heun: sampleDpmpp2mSdeHeun,
  dpmpp_2m_sde_heun_gpu: sampleDpmpp2mSdeHeun,
  dpmpp_3m_sde: sampleDpmpp3mSde,
  dpmpp_3m_sde_gpu: sampleDpmpp3mSde,
  ddpm: sampleDdpm,
  lcm: sampleLcm,
  ipndm: sampleIpndm,
  ipndm_v: sampleIpndmV,
  deis: sampleDeis,
  res_multistep: sampleResMultistep,
  res_multistep_cfg_pp: sampleResMultistepCfgPp,
  res_multistep_ancestral: sampleResMultistepAncestral,
  res_multistep_ancestral_cfg_pp: sampleResMultistepAncestralCfgPp,
  gradient_estimation: sampleGradientEstimation,
  gradient_estimation_cfg_pp: sampleGradientEstimationCfgPp,
  er_sde: sampleErSde,
  seeds_2: sampleSeeds2,
  seeds_3: sampleSeeds3,
  sa_solver: sampleSaSolver,
  sa_solver_pece: sampleSaSolverPece,
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
  'euler_ancestral', 'dpm_2_ancestral', 'dpmpp_2s_ancestral', 'dpmpp_sde', 'dpmpp_sde_gpu', 'dpmpp_2m_sde',
  'dpmpp_2m_sde_gpu', 'dpmpp_2m_sde_heun', 'dpmpp_2m_sde_heun_gpu', 'dpmpp_3m_sde', 'dpmpp_3m_sde_gpu', 'ddpm', 'lcm',
  'euler_ancestral_cfg_pp', 'dpmpp_2s_ancestral_cfg_pp', 'exp_heun_2_x0_sde', 'res_multistep_ancestral',
  'res_multistep_ancestral_cfg_pp', 'er_sde', 'seeds_2', 'seeds_3', 'sa_solver', 'sa_solver_pece',
]);

/** Samplers that read the unconditional estimate (CFG++): the denoiser runs the unconditional pass even at CFG 1. */
export const UNCOND_SAMPLERS: ReadonlySet<SamplerName> = new Set(SAMPLER_NAMES.filter((n) => SAMPLERS[n].usesUncond === true));

export type { Denoiser, GuidedDenoised, Sampler, SamplerOptions, StepInfo } from './types.js';
export { DenoiserShapeError, NoiseSourceError, SamplerStepError } from './types.js';
export { ancestralStep } from './common.js';
export { linearMultistepCoeff, makeLms } from './lms.js';
export { makeUniPc, type UniPcVariant } from './uni-pc.js';
export { makeDpmpp2mSde, type Dpmpp2mSdeSolver } from './dpmpp.js';
export {
  sampleDdim, sampleEuler, sampleEulerAncestral, sampleDpm2, sampleDpm2Ancestral, sampleHeun, sampleLms,
  sampleDpmpp2m, sampleDpmpp2mSde, sampleDpmppSde, sampleLcm, sampleUniPc, sampleUniPcBh2,
  sampleDpmpp2mSdeHeun, sampleDpmpp2sAncestral, sampleDpmpp3mSde, sampleHeunpp2, sampleIpndm, sampleIpndmV, sampleDdpm,
};
export * as vector from './vector.js';
