/** Runtime guards for the diffusion socket values (bound to socket ids in nodes/sockets.ts). */
import { Tensor } from '../../runtime/tensor.js';
import { UNetQueue } from '../../runtime/batching/unet-queue.js';
import { SessionHandle } from '../../runtime/session-handle.js';
import type { ClipModel, CondEntry, Conditioning, DiffusionModel, Guider, NoiseSource, SamplerChoice, VaeModel } from './types.js';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

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

export function isSigmas(v: unknown): v is Float64Array {
  return v instanceof Float64Array;
}

export function isSamplerChoice(v: unknown): v is SamplerChoice {
  return isObj(v) && typeof v.name === 'string' && typeof v.fn === 'function';
}

export function isNoiseSource(v: unknown): v is NoiseSource {
  return isObj(v) && typeof v.generate === 'function' && (typeof v.seed === 'number' || typeof v.seed === 'bigint');
}

export function isGuider(v: unknown): v is Guider {
  return isObj(v) && isDiffusionModel(v.model) && isConditioning(v.positive) && typeof v.cfg === 'number';
}
