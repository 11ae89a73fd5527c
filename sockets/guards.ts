/** Runtime guards for the shared socket values (sockets/values.ts). */
import { Tensor } from '../runtime/tensor.js';
import { UNetQueue } from '../runtime/batching/unet-queue.js';
import { SessionHandle } from '../runtime/session-handle.js';
import type { ClipModel, CondEntry, Conditioning, DiffusionModel, Latent, VaeModel } from './values.js';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

export function isFloatTensor(v: unknown): v is Tensor<'float32'> {
  return v instanceof Tensor && v.dtype === 'float32';
}

export function isLatent(v: unknown): v is Latent {
  return isObj(v) && 'samples' in v && isFloatTensor(v.samples);
}

export function isDiffusionModel(v: unknown): v is DiffusionModel {
  return isObj(v) && v.unet instanceof UNetQueue && isObj(v.sampling) && typeof v.latentScale === 'number';
}

export function isClipModel(v: unknown): v is ClipModel {
  return isObj(v) && v.textEncoder instanceof SessionHandle && isObj(v.tokenizer) && typeof v.layer === 'number';
}

export function isVaeModel(v: unknown): v is VaeModel {
  return isObj(v) && typeof v.scalingFactor === 'number' && typeof v.downscale === 'number';
}

function isCondEntry(v: unknown): v is CondEntry {
  return isObj(v) && v.embeds instanceof Tensor && typeof v.strength === 'number';
}

export function isConditioning(v: unknown): v is Conditioning {
  return Array.isArray(v) && v.every(isCondEntry);
}
