/**
 * Conditioning masks (ComfyUI samplers.py resolve_areas_and_cond_masks_multidim and get_area_and_mult):
 * the mask is resized bilinearly to the latent, optionally turned into a bounding area, and becomes the
 * entry's per-cell weight (times mask strength and entry strength), without the edge fade areas get.
 */
import { resizePlanes } from '../../imaging/resample.js';
import { Tensor } from '../../runtime/tensor.js';
import type { CondArea, CondMask } from '../../sockets/index.js';

/** Weights of a masked entry: one h x w plane per mask row; latent row b uses plane b % rows. */
export interface MaskWeights {
  readonly region: CondArea;
  readonly weights: Float32Array;
  readonly rows: number;
}

/** ComfyUI get_mask_aabb over max |mask| of every row: the box of its non-zero cells, at least 8 x 8 (8 x 8 at the origin when empty). */
function boundsOf(planes: Float32Array, rows: number, H: number, W: number): CondArea {
  let y0 = H;
  let y1 = -1;
  let x0 = W;
  let x1 = -1;
  for (let i = 0; i < H; i++) {
    for (let j = 0; j < W; j++) {
      let any = false;
      for (let r = 0; r < rows && !any; r++) any = planes[(r * H + i) * W + j] !== 0;
      if (!any) continue;
      y0 = Math.min(y0, i);
      y1 = Math.max(y1, i);
      x0 = Math.min(x0, j);
      x1 = Math.max(x1, j);
    }
  }
  if (y1 < 0) return { h: 8, w: 8, y: 0, x: 0 };
  return { h: Math.max(8, y1 - y0 + 1), w: Math.max(8, x1 - x0 + 1), y: y0, x: x0 };
}

/** The region and weights of a masked entry in an H x W latent; `clamp` fits an area into the latent. */
export function maskWeights(m: CondMask, H: number, W: number, strength: number, area: CondArea | undefined, clamp: (a: CondArea | undefined) => CondArea): MaskWeights {
  const shape = m.mask.shape;
  const mh = shape[shape.length - 2]!;
  const mw = shape[shape.length - 1]!;
  const rows = Math.max(1, m.mask.size / (mh * mw));
  const src = new Tensor('float32', Float32Array.from(m.mask.data), [rows, mh, mw]);
  const planes = mh === H && mw === W ? src.data : resizePlanes(src, H, W, 'bilinear').data;
  const region = clamp(m.toBounds ? boundsOf(planes, rows, H, W) : area);
  const weights = new Float32Array(rows * region.h * region.w);
  // torch multiplies a float32 tensor by a Python float in float32.
  const scale = Math.fround(m.strength);
  const mult = Math.fround(strength);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < region.h; i++) {
      for (let j = 0; j < region.w; j++) {
        const v = Math.fround(planes[(r * H + region.y + i) * W + region.x + j]! * scale);
        weights[(r * region.h + i) * region.w + j] = Math.fround(v * mult);
      }
    }
  }
  return { region, weights, rows };
}
