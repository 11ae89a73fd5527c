/** ImageCompositeMasked (ComfyUI comfy_extras/nodes_mask.py `composite` with multiplier 1). IMAGE is [B,H,W,C]. */
import { BOOLEAN, INT, defineNode } from '../../engine/index.js';
import { IMAGE, MASK } from '../../sockets/index.js';
import { Tensor } from '../../runtime/tensor.js';
import { resizePlanes, toChannelsFirst } from '../../imaging/resample.js';
import { alphaFix } from './filters.js';
import { MAX_RESOLUTION } from './image-ops.js';

/** comfy.utils.repeat_to_batch_size: the first `batch` rows, repeating the rows cyclically when there are fewer. */
function rowOf(row: number, have: number): number {
  return row % have;
}

/**
 * Pastes `source` onto a copy of `destination` at (x, y), weighted by `mask` (resized bilinearly to the
 * source, 1 = source): out = mask x source + (1 - mask) x destination, over the part that overlaps.
 */
export function compositeImages(destination: Tensor<'float32'>, source: Tensor<'float32'>, x: number, y: number, resizeSource: boolean, mask?: Tensor<'float32'>): Tensor<'float32'> {
  const [B, DH, DW, C] = destination.shape as [number, number, number, number];
  let src = toChannelsFirst(alphaFix(destination, source));
  if (resizeSource) src = resizePlanes(src, DH, DW, 'bilinear');
  const [SB, , SH, SW] = src.shape as [number, number, number, number];
  const left = Math.max(-SW, Math.min(x, DW));
  const top = Math.max(-SH, Math.min(y, DH));
  let m: Float32Array | undefined;
  let MB = 1;
  if (mask) {
    const mh = mask.shape[mask.shape.length - 2]!;
    const mw = mask.shape[mask.shape.length - 1]!;
    MB = mask.size / (mh * mw);
    m = resizePlanes(new Tensor('float32', mask.data, [MB, 1, mh, mw]), SH, SW, 'bilinear').data;
  }
  const out = destination.data.slice();
  const y0 = Math.max(0, top);
  const x0 = Math.max(0, left);
  const y1 = Math.min(DH, top + SH);
  const x1 = Math.min(DW, left + SW);
  for (let b = 0; b < B; b++) {
    const sb = rowOf(b, SB);
    // The mask repeats to the source's batch, which has been repeated to the destination's.
    const mb = rowOf(b, MB);
    for (let dy = y0; dy < y1; dy++) {
      for (let dx = x0; dx < x1; dx++) {
        const sy = dy - top;
        const sx = dx - left;
        const w = m ? m[(mb * SH + sy) * SW + sx]! : 1;
        const o = ((b * DH + dy) * DW + dx) * C;
        for (let c = 0; c < C; c++) out[o + c] = w * src.data[((sb * C + c) * SH + sy) * SW + sx]! + (1 - w) * out[o + c]!;
      }
    }
  }
  return new Tensor('float32', out, destination.shape);
}

export const ImageCompositeMasked = defineNode({
  type: 'ImageCompositeMasked',
  displayName: 'Image Composite Masked',
  category: 'image',
  version: '1.0.0',
  inputs: {
    destination: IMAGE,
    source: IMAGE,
    x: INT({ default: 0, min: 0, max: MAX_RESOLUTION, step: 1 }),
    y: INT({ default: 0, min: 0, max: MAX_RESOLUTION, step: 1 }),
    resize_source: BOOLEAN({ default: false }),
  },
  optional: { mask: MASK },
  outputs: { IMAGE },
  infer: (_v, { destination }) => (destination ? { IMAGE: destination } : {}),
  run(_ctx, { destination, source, x, y, resize_source, mask }) {
    return { IMAGE: compositeImages(destination, source, x, y, resize_source, mask) };
  },
});
