/**
 * Control-image preprocessors that need no model: Canny (ComfyUI comfy_extras/nodes_canny.py, kornia's
 * canny) and ThresholdMask (comfy_extras/nodes_mask.py), which with ImageToMask / MaskToImage gives a
 * black-and-white lineart or silhouette hint.
 */
import { FLOAT, defineNode } from '../../engine/index.js';
import { IMAGE, MASK } from '../../sockets/index.js';
import { Tensor } from '../../runtime/tensor.js';
import { toChannelsFirst } from '../../imaging/resample.js';
import { cannyEdges } from '../../imaging/canny.js';

/** Thrown when a preprocessor gets an image it cannot read. */
export class PreprocessorInputError extends Error {
  override readonly name = 'PreprocessorInputError';
}

export const Canny = defineNode({
  type: 'Canny',
  category: 'image/preprocessors',
  version: '1.0.0',
  description: 'Canny edges (white on black), as ControlNet canny models expect.',
  inputs: {
    image: IMAGE,
    low_threshold: FLOAT({ default: 0.4, min: 0.01, max: 0.99, step: 0.01 }),
    high_threshold: FLOAT({ default: 0.8, min: 0.01, max: 0.99, step: 0.01 }),
  },
  outputs: { IMAGE },
  infer: (_v, { image }) => (image ? { IMAGE: [image[0]!, image[1]!, image[2]!, 3] } : {}),
  run(_ctx, { image, low_threshold, high_threshold }) {
    const c = image.shape[3];
    if (image.shape.length !== 4 || (c !== 1 && c !== 3)) {
      throw new PreprocessorInputError(`Canny: input 'image' must be [B,H,W,1 or 3], got [${image.shape.join(', ')}]`);
    }
    const [B, H, W] = image.shape as [number, number, number, number];
    const edges = cannyEdges(toChannelsFirst(image), low_threshold, high_threshold);
    const out = new Float32Array(B * H * W * 3);
    for (let p = 0; p < edges.length; p++) out.fill(edges[p]!, p * 3, p * 3 + 3);
    return { IMAGE: new Tensor('float32', out, [B, H, W, 3]) };
  },
});

export const ThresholdMask = defineNode({
  type: 'ThresholdMask',
  category: 'mask',
  version: '1.0.0',
  inputs: { mask: MASK, value: FLOAT({ default: 0.5, min: 0.0, max: 1.0, step: 0.01 }) },
  outputs: { MASK },
  infer: (_v, { mask }) => (mask ? { MASK: mask } : {}),
  run(_ctx, { mask, value }) {
    return { MASK: new Tensor('float32', Float32Array.from(mask.data, (v) => (v > value ? 1 : 0)), mask.shape) };
  },
});
