/**
 * ComfyUI's unCLIPConditioning (nodes.py): attaches CLIP image embeddings to every conditioning
 * entry as `unclip_conditioning` [{clip_vision_output, strength, noise_augmentation}], appended to
 * what the entry already carries. unCLIP checkpoints read it as their ADM input; others ignore it.
 */
import { FLOAT, defineNode } from '../../engine/index.js';
import { CLIP_VISION_OUTPUT } from './sockets.js';
import { CONDITIONING } from '../../sockets/index.js';
import type { CondEntry, Conditioning } from '../../sockets/index.js';
import type { ClipVisionOutput } from './types.js';

export interface UnclipInput {
  readonly clip_vision_output: ClipVisionOutput;
  readonly strength: number;
  readonly noise_augmentation: number;
}

/** A conditioning entry with image embeddings attached. */
export interface UnclipCondEntry extends CondEntry {
  readonly unclip_conditioning: readonly UnclipInput[];
}

export function hasUnclip(e: CondEntry): e is UnclipCondEntry {
  return 'unclip_conditioning' in e && Array.isArray(e.unclip_conditioning);
}

export function applyUnclip(c: Conditioning, out: ClipVisionOutput, strength: number, noiseAugmentation: number): Conditioning {
  if (strength === 0) return c;
  const add: UnclipInput = { clip_vision_output: out, strength, noise_augmentation: noiseAugmentation };
  return c.map((e): UnclipCondEntry => ({ ...e, unclip_conditioning: [...(hasUnclip(e) ? e.unclip_conditioning : []), add] }));
}

export const unCLIPConditioning = defineNode({
  type: 'unCLIPConditioning',
  category: 'conditioning',
  version: '1.0.0',
  inputs: {
    conditioning: CONDITIONING,
    clip_vision_output: CLIP_VISION_OUTPUT,
    strength: FLOAT({ default: 1.0, min: -10.0, max: 10.0, step: 0.01 }),
    noise_augmentation: FLOAT({ default: 0.0, min: 0.0, max: 1.0, step: 0.01 }),
  },
  outputs: { CONDITIONING },
  run(_ctx, { conditioning, clip_vision_output, strength, noise_augmentation }) {
    return { CONDITIONING: applyUnclip(conditioning, clip_vision_output, strength, noise_augmentation) };
  },
});
