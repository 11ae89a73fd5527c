/** The sockets only the diffusion family uses (ComfyUI's custom-sampling values). SIGMAS is a descending schedule ending at 0. */
import { socket } from '../../engine/index.js';
import { isGuider, isNoiseSource, isSamplerChoice, isSigmas } from './guards.js';
import type { Guider, NoiseSource, SamplerChoice } from './types.js';

export const SIGMAS = socket<Float64Array>('SIGMAS', isSigmas);
export const SAMPLER = socket<SamplerChoice>('SAMPLER', isSamplerChoice);
export const NOISE = socket<NoiseSource>('NOISE', isNoiseSource);
export const GUIDER = socket<Guider>('GUIDER', isGuider);
