import { socket } from '../engine/index.js';
import { Tensor } from '../runtime/tensor.js';
import type { ClipModel, Conditioning, DiffusionModel, Guider, NoiseSource, SamplerChoice, VaeModel } from './diffusion/types.js';
import { isClipModel, isConditioning, isDiffusionModel, isGuider, isNoiseSource, isSamplerChoice, isSigmas, isVaeModel } from './diffusion/guards.js';
import type { ClipVisionModel, ClipVisionOutput, ImageClassifierModel, ImageIndex, Scores } from './clip/types.js';
import { isClipVisionModel, isClipVisionOutput, isImageClassifier, isImageIndex, isScores } from './clip/guards.js';

/**
 * TypeScript types bound to the engine's socket ids, once, here. Node families import these.
 * Domain types of later families (MODEL, CLIP, VAE, CONDITIONING, ...) are bound beside them below.
 */
function isFloatTensor(v: unknown): v is Tensor<'float32'> {
  return v instanceof Tensor && v.dtype === 'float32';
}

/** ComfyUI's latent dict: `samples` [B,C,h,w], an optional noise mask and batch indices. */
export interface Latent {
  readonly samples: Tensor<'float32'>;
  readonly noise_mask?: Tensor<'float32'>;
  readonly batch_index?: readonly number[];
}

function isLatent(v: unknown): v is Latent {
  return typeof v === 'object' && v !== null && 'samples' in v && isFloatTensor(v.samples);
}

/** IMAGE: float [B,H,W,C] in 0..1 (ComfyUI's convention). */
export const IMAGE = socket<Tensor<'float32'>>('IMAGE', isFloatTensor);
/** MASK: float [B,H,W] in 0..1, 1 = selected. */
export const MASK = socket<Tensor<'float32'>>('MASK', isFloatTensor);
export const LATENT = socket<Latent>('LATENT', isLatent);
export const INT_OUT = socket<number>('INT', (v): v is number => typeof v === 'number' && Number.isInteger(v));
export const FLOAT_OUT = socket<number>('FLOAT', (v): v is number => typeof v === 'number');
export const STRING_OUT = socket<string>('STRING', (v): v is string => typeof v === 'string');
export const BOOLEAN_OUT = socket<boolean>('BOOLEAN', (v): v is boolean => typeof v === 'boolean');

/** Diffusion values (nodes/diffusion/types.ts). SIGMAS is a descending schedule ending at 0. */
export const MODEL = socket<DiffusionModel>('MODEL', isDiffusionModel);
export const CLIP = socket<ClipModel>('CLIP', isClipModel);
export const VAE = socket<VaeModel>('VAE', isVaeModel);
export const CONDITIONING = socket<Conditioning>('CONDITIONING', isConditioning);
export const SIGMAS = socket<Float64Array>('SIGMAS', isSigmas);
export const SAMPLER = socket<SamplerChoice>('SAMPLER', isSamplerChoice);
export const NOISE = socket<NoiseSource>('NOISE', isNoiseSource);
export const GUIDER = socket<Guider>('GUIDER', isGuider);

/** CLIP-family values (nodes/clip/types.ts). */
export const CLIP_VISION = socket<ClipVisionModel>('CLIP_VISION', isClipVisionModel);
export const CLIP_VISION_OUTPUT = socket<ClipVisionOutput>('CLIP_VISION_OUTPUT', isClipVisionOutput);
export const CLASSIFIER = socket<ImageClassifierModel>('CLASSIFIER', isImageClassifier);
export const SCORES = socket<Scores>('SCORES', isScores);
export const IMAGE_INDEX = socket<ImageIndex>('IMAGE_INDEX', isImageIndex);
