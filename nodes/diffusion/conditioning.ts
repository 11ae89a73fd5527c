/** Conditioning list operations (ComfyUI nodes.py ConditioningCombine, ConditioningSetArea, ConditioningZeroOut). */
import { COMBO, FLOAT, INT, defineNode } from '../../engine/index.js';
import { Tensor } from '../../runtime/tensor.js';
import { CONDITIONING, MASK } from '../../sockets/index.js';
import type { Conditioning } from '../../sockets/index.js';

/** ComfyUI MAX_RESOLUTION. */
export const MAX_RESOLUTION = 16384;

export const ConditioningCombine = defineNode({
  type: 'ConditioningCombine',
  displayName: 'Conditioning (Combine)',
  category: 'conditioning',
  version: '1.0.0',
  inputs: { conditioning_1: CONDITIONING, conditioning_2: CONDITIONING },
  outputs: { CONDITIONING },
  run: (_ctx, { conditioning_1, conditioning_2 }) => ({ CONDITIONING: [...conditioning_1, ...conditioning_2] }),
});

/** Restricts each entry to a rectangle; stored in latent cells as ComfyUI does (pixels // 8). */
export function setArea(c: Conditioning, width: number, height: number, x: number, y: number, strength: number): Conditioning {
  const area = { h: Math.floor(height / 8), w: Math.floor(width / 8), y: Math.floor(y / 8), x: Math.floor(x / 8) };
  return c.map((e) => ({ ...e, area, strength }));
}

export const ConditioningSetArea = defineNode({
  type: 'ConditioningSetArea',
  displayName: 'Conditioning (Set Area)',
  category: 'conditioning',
  version: '1.0.0',
  inputs: {
    conditioning: CONDITIONING,
    width: INT({ default: 64, min: 64, max: MAX_RESOLUTION, step: 8 }),
    height: INT({ default: 64, min: 64, max: MAX_RESOLUTION, step: 8 }),
    x: INT({ default: 0, min: 0, max: MAX_RESOLUTION, step: 8 }),
    y: INT({ default: 0, min: 0, max: MAX_RESOLUTION, step: 8 }),
    strength: FLOAT({ default: 1.0, min: 0.0, max: 10.0, step: 0.01 }),
  },
  outputs: { CONDITIONING },
  run: (_ctx, { conditioning, width, height, x, y, strength }) => ({ CONDITIONING: setArea(conditioning, width, height, x, y, strength) }),
});

const zerosLike = (t: Tensor): Tensor => Tensor.zeros(t.shape);

export const ConditioningZeroOut = defineNode({
  type: 'ConditioningZeroOut',
  category: 'advanced/conditioning',
  version: '1.0.0',
  inputs: { conditioning: CONDITIONING },
  outputs: { CONDITIONING },
  run: (_ctx, { conditioning }) => ({
    CONDITIONING: conditioning.map((e) => ({ ...e, embeds: zerosLike(e.embeds), pooled: e.pooled ? zerosLike(e.pooled) : undefined })),
  }),
});

/** Limits entries to a part of the schedule (ComfyUI ConditioningSetTimestepRange: start_percent, end_percent). */
export const ConditioningSetTimestepRange = defineNode({
  type: 'ConditioningSetTimestepRange',
  category: 'advanced/conditioning',
  version: '1.0.0',
  inputs: {
    conditioning: CONDITIONING,
    start: FLOAT({ default: 0.0, min: 0.0, max: 1.0, step: 0.001 }),
    end: FLOAT({ default: 1.0, min: 0.0, max: 1.0, step: 0.001 }),
  },
  outputs: { CONDITIONING },
  run: (_ctx, { conditioning, start, end }) => ({
    CONDITIONING: conditioning.map((e) => ({ ...e, timestepRange: { start, end } })),
  }),
});

/** Confines entries to a mask (ComfyUI ConditioningSetMask); 'mask bounds' samples only the box around it. */
export const ConditioningSetMask = defineNode({
  type: 'ConditioningSetMask',
  displayName: 'Conditioning (Set Mask)',
  category: 'conditioning',
  version: '1.0.0',
  inputs: {
    conditioning: CONDITIONING,
    mask: MASK,
    strength: FLOAT({ default: 1.0, min: 0.0, max: 10.0, step: 0.01 }),
    set_cond_area: COMBO(['default', 'mask bounds']),
  },
  outputs: { CONDITIONING },
  run: (_ctx, { conditioning, mask, strength, set_cond_area }) => ({
    CONDITIONING: conditioning.map((e) => ({ ...e, mask: { mask, strength, toBounds: set_cond_area !== 'default' } })),
  }),
});
