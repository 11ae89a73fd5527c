/** The diffusion node family: loaders, text, latents, VAE, samplers. */
import { CheckpointLoaderSimple, VAELoader } from './loaders.js';
import { CLIPSetLastLayer, CLIPTextEncode } from './clip-text.js';
import { CLIPTextEncodeSDXL, CLIPTextEncodeSDXLRefiner } from './sdxl-text.js';
import { ConditioningCombine, ConditioningSetArea, ConditioningSetMask, ConditioningSetTimestepRange, ConditioningZeroOut } from './conditioning.js';
import { EmptyLatentImage, LatentComposite, LatentUpscale, LatentUpscaleBy, SetLatentNoiseMask } from './latent.js';
import { VAEDecode, VAEDecodeTiled, VAEEncode, VAEEncodeForInpaint } from './vae-nodes.js';
import { VAEEncodeTiled } from './vae-tiled.js';
import { KSampler, KSamplerAdvanced } from './ksampler.js';
import {
  BasicGuider, BasicScheduler, CFGGuider, DisableNoise, KSamplerSelect, KarrasScheduler, RandomNoise, SDTurboScheduler,
  SamplerCustom, SamplerCustomAdvanced, SplitSigmas,
} from './custom-sampling.js';
import { ModelSamplingDiscrete } from './model-sampling-nodes.js';
import { UNetStep } from './unet-step.js';
import { LatentBlend, LatentCrop, LatentFlip, LatentFromBatch, LatentRotate, RepeatLatentBatch } from './latent-batch.js';
import { ConditioningAverage, ConditioningConcat } from './conditioning-ops.js';

export const DIFFUSION_NODES = [
  CheckpointLoaderSimple, VAELoader,
  CLIPTextEncode, CLIPSetLastLayer, CLIPTextEncodeSDXL, CLIPTextEncodeSDXLRefiner, ConditioningCombine, ConditioningSetArea, ConditioningZeroOut, ConditioningSetTimestepRange, ConditioningSetMask,
  EmptyLatentImage, VAEEncode, VAEDecode, VAEDecodeTiled, VAEEncodeTiled, VAEEncodeForInpaint, SetLatentNoiseMask,
  LatentUpscale, LatentUpscaleBy, LatentComposite,
  KSampler, KSamplerAdvanced,
  KSamplerSelect, BasicScheduler, KarrasScheduler, SDTurboScheduler, SplitSigmas, RandomNoise, DisableNoise,
  CFGGuider, BasicGuider, SamplerCustom, SamplerCustomAdvanced, ModelSamplingDiscrete, UNetStep,
  RepeatLatentBatch, LatentFromBatch, LatentFlip, LatentRotate, LatentCrop, LatentBlend, ConditioningConcat, ConditioningAverage,
];

export { loadCheckpoint, loadVae, type Checkpoint, CheckpointLoadError } from './checkpoint.js';
export { encodeText } from './clip-text.js';
export { makeDenoiser, guidanceEmbedding, areaWeights, ConditioningError, type DenoiserOptions } from './denoiser.js';
export { sampleLatent, type SampleRequest, type SampleResult } from './sample.js';
export { UNetQueue, mergeKey, type UNetRequest } from '../../runtime/batching/unet-queue.js';
export { vaeDecode, vaeEncode } from './vae-codec.js';
export type * from './types.js';
