/** Runtime guards for the diffusion family's own socket values (nodes/diffusion/sockets.ts). */
import { isConditioning, isDiffusionModel } from '../../sockets/index.js';
import type { Guider, NoiseSource, SamplerChoice } from './types.js';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

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
