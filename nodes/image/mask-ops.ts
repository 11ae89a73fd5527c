/**
 * Mask nodes of ComfyUI core: LoadImageMask (nodes.py) and InvertMask, SolidMask, MaskToImage,
 * ImageToMask, GrowMask (comfy_extras/nodes_mask.py). MASK is [B,H,W] (a 2-D mask counts as one).
 */
import { defineNode, BOOLEAN, COMBO, FLOAT, INT, NodeInputError, type Shape } from '../../engine/index.js';
import { IMAGE, MASK } from '../../sockets/index.js';
import { Tensor } from '../../runtime/tensor.js';
import { LoadImage, listInputImages } from './load-save.js';
import { MAX_RESOLUTION } from './image-ops.js';

/** A mask's shape as ComfyUI reshapes it, (-1, H, W). */
export function maskPlanesShape(shape: Shape): [n: number, h: number, w: number] {
  if (shape.length < 2) throw new NodeInputError('mask', `expected a MASK [B,H,W], got [${shape.join(',')}]`);
  const h = shape[shape.length - 2]!;
  const w = shape[shape.length - 1]!;
  const n = h * w === 0 ? 0 : shape.reduce((a, d) => a * d, 1) / (h * w);
  return [n, h, w];
}

const LOAD_CHANNELS = ['alpha', 'red', 'green', 'blue'] as const;

function floatTensor(v: unknown, what: string): Tensor<'float32'> {
  if (IMAGE.guard(v)) return v;
  throw new NodeInputError('image', `LoadImage gave no ${what}`);
}

/**
 * One channel of an image file as a mask (ComfyUI LoadImageMask): alpha gives 1 - alpha, red, green
 * and blue their value. Files load through LoadImage (same folder, choices, upload and fingerprint);
 * the first frame is used, and a picture without alpha has alpha 1 everywhere (mask 0, its own size).
 */
export const LoadImageMask = defineNode({
  type: 'LoadImageMask',
  displayName: 'Load Image (as Mask)',
  category: 'mask',
  version: '1.0.0',
  inputs: {
    image: COMBO(listInputImages, { imageUpload: true }),
    channel: COMBO(LOAD_CHANNELS),
  },
  outputs: { MASK },
  async infer({ image }, _shapes, services) {
    if (image === undefined || !LoadImage.infer) return {};
    const img = (await LoadImage.infer({ image }, {}, services)).IMAGE;
    return img ? { MASK: [1, img[1]!, img[2]!] } : {};
  },
  async fingerprint({ image }, services) {
    return LoadImage.fingerprint ? LoadImage.fingerprint({ image }, services) : image;
  },
  async run(ctx, { image, channel }) {
    const loaded = await LoadImage.run(ctx, { image });
    const pixels = floatTensor(loaded.IMAGE, 'IMAGE');
    const [, h, w, c] = pixels.shape as [number, number, number, number];
    const out = new Float32Array(h * w);
    if (channel === 'alpha') {
      const alpha = floatTensor(loaded.MASK, 'MASK');
      const [, mh, mw] = maskPlanesShape(alpha.shape);
      // LoadImage's 64x64 stand-in means "no alpha": alpha 1, so the mask is 0 at the image's size.
      if (mh === h && mw === w) out.set(alpha.data.subarray(0, h * w));
    } else {
      const k = LOAD_CHANNELS.indexOf(channel) - 1;
      for (let i = 0; i < h * w; i++) out[i] = pixels.data[i * c + k]!;
    }
    return { MASK: new Tensor('float32', out, [1, h, w]) };
  },
});

export const InvertMask = defineNode({
  type: 'InvertMask',
  category: 'mask',
  version: '1.0.0',
  inputs: { mask: MASK },
  outputs: { MASK },
  infer: (_v, { mask }) => ({ MASK: mask }),
  run(_ctx, { mask }) {
    const out = new Float32Array(mask.size);
    for (let i = 0; i < out.length; i++) out[i] = 1 - mask.data[i]!;
    return { MASK: new Tensor('float32', out, mask.shape) };
  },
});

export const SolidMask = defineNode({
  type: 'SolidMask',
  category: 'mask',
  version: '1.0.0',
  inputs: {
    value: FLOAT({ default: 1.0, min: 0.0, max: 1.0, step: 0.01 }),
    width: INT({ default: 512, min: 1, max: MAX_RESOLUTION, step: 1 }),
    height: INT({ default: 512, min: 1, max: MAX_RESOLUTION, step: 1 }),
  },
  outputs: { MASK },
  infer: ({ width, height }) => (width !== undefined && height !== undefined ? { MASK: [1, height, width] } : {}),
  run: (_ctx, { value, width, height }) => ({ MASK: new Tensor('float32', new Float32Array(width * height).fill(value), [1, height, width]) }),
});

export const MaskToImage = defineNode({
  type: 'MaskToImage',
  displayName: 'Convert Mask to Image',
  category: 'mask',
  version: '1.0.0',
  inputs: { mask: MASK },
  outputs: { IMAGE },
  infer: (_v, { mask }) => (mask ? { IMAGE: [...maskPlanesShape(mask), 3] } : {}),
  run(_ctx, { mask }) {
    const [n, h, w] = maskPlanesShape(mask.shape);
    const out = new Float32Array(n * h * w * 3);
    for (let i = 0; i < n * h * w; i++) out[i * 3] = out[i * 3 + 1] = out[i * 3 + 2] = mask.data[i]!;
    return { IMAGE: new Tensor('float32', out, [n, h, w, 3]) };
  },
});

const IMAGE_CHANNELS = ['red', 'green', 'blue', 'alpha'] as const;

export const ImageToMask = defineNode({
  type: 'ImageToMask',
  displayName: 'Convert Image to Mask',
  category: 'mask',
  version: '1.0.0',
  inputs: { image: IMAGE, channel: COMBO(IMAGE_CHANNELS) },
  outputs: { MASK },
  infer: (_v, { image }) => (image ? { MASK: image.slice(0, 3) } : {}),
  run(_ctx, { image, channel }) {
    const [b, h, w, c] = image.shape as [number, number, number, number];
    const k = IMAGE_CHANNELS.indexOf(channel);
    if (k >= c) throw new NodeInputError('channel', `${channel} is channel ${k} but the image has ${c} channels`);
    const out = new Float32Array(b * h * w);
    for (let i = 0; i < out.length; i++) out[i] = image.data[i * c + k]!;
    return { MASK: new Tensor('float32', out, [b, h, w]) };
  },
});

/**
 * One step of scipy.ndimage grey_dilation (max) or grey_erosion (min) with a 3x3 cross footprint,
 * or the full 3x3 square when `square`. Border pixels see only the neighbours inside the picture,
 * which is what scipy's default 'reflect' mode amounts to for a 3x3 footprint.
 */
export function morphStep(src: Float32Array, h: number, w: number, grow: boolean, square: boolean): Float32Array<ArrayBuffer> {
  const out = new Float32Array(h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let v = src[y * w + x]!;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= h) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= w || (!square && dx !== 0 && dy !== 0)) continue;
          const s = src[yy * w + xx]!;
          v = grow ? Math.max(v, s) : Math.min(v, s);
        }
      }
      out[y * w + x] = v;
    }
  }
  return out;
}

export const GrowMask = defineNode({
  type: 'GrowMask',
  displayName: 'Grow Mask',
  category: 'mask',
  version: '1.0.0',
  inputs: {
    mask: MASK,
    expand: INT({ default: 0, min: -MAX_RESOLUTION, max: MAX_RESOLUTION, step: 1 }),
    tapered_corners: BOOLEAN({ default: true }),
  },
  outputs: { MASK },
  infer: (_v, { mask }) => (mask ? { MASK: maskPlanesShape(mask) } : {}),
  run(ctx, { mask, expand, tapered_corners }) {
    const [n, h, w] = maskPlanesShape(mask.shape);
    const out = new Float32Array(n * h * w);
    for (let p = 0; p < n; p++) {
      let plane: Float32Array = mask.data.slice(p * h * w, (p + 1) * h * w);
      for (let k = 0; k < Math.abs(expand); k++) {
        ctx.signal.throwIfAborted();
        const next = morphStep(plane, h, w, expand > 0, !tapered_corners);
        // Once a step changes nothing, no later step will: skip the rest of a large `expand`.
        if (next.every((v, i) => v === plane[i])) break;
        plane = next;
      }
      out.set(plane, p * h * w);
    }
    return { MASK: new Tensor('float32', out, [n, h, w]) };
  },
});
