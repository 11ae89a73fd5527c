/**
 * The sockets node families share, with their TypeScript types bound once: ComfyUI's core values
 * (IMAGE, MASK, LATENT, MODEL, CLIP, VAE, CONDITIONING) and the primitive outputs. Nothing here imports
 * a family; a family binds the sockets only it uses in its own `sockets.ts` (nodes/diffusion, nodes/clip).
 */
import { socket, type Shape } from '../engine/index.js';
import type { Tensor } from '../runtime/tensor.js';
import { isClipModel, isConditioning, isDiffusionModel, isFloatTensor, isLatent, isVaeModel } from './guards.js';
import type { ClipModel, Conditioning, DiffusionModel, Latent, VaeModel } from './values.js';

export type * from './values.js';
export { isClipModel, isConditioning, isDiffusionModel, isFloatTensor, isLatent, isVaeModel } from './guards.js';
export { unetComponents, type UNetRole } from './unet-components.js';

/** Bytes of a float32 tensor of `shape` (memory admission; IMAGE, MASK and LATENT samples are float32). */
export function float32Bytes(shape: Shape): number {
  return 4 * shape.reduce((a, b) => a * b, 1);
}

/** IMAGE: float [B,H,W,C] in 0..1 (ComfyUI's convention). */
export const IMAGE = socket<Tensor<'float32'>>('IMAGE', isFloatTensor, { bytes: float32Bytes });
/** MASK: float [B,H,W] in 0..1, 1 = selected. */
export const MASK = socket<Tensor<'float32'>>('MASK', isFloatTensor, { bytes: float32Bytes });
export const LATENT = socket<Latent>('LATENT', isLatent, { bytes: float32Bytes });
export const INT_OUT = socket<number>('INT', (v): v is number => typeof v === 'number' && Number.isInteger(v));
export const FLOAT_OUT = socket<number>('FLOAT', (v): v is number => typeof v === 'number');
export const STRING_OUT = socket<string>('STRING', (v): v is string => typeof v === 'string');
export const BOOLEAN_OUT = socket<boolean>('BOOLEAN', (v): v is boolean => typeof v === 'boolean');

export const MODEL = socket<DiffusionModel>('MODEL', isDiffusionModel);
export const CLIP = socket<ClipModel>('CLIP', isClipModel);
export const VAE = socket<VaeModel>('VAE', isVaeModel);
export const CONDITIONING = socket<Conditioning>('CONDITIONING', isConditioning);
