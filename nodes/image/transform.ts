import { defineNode, COMBO, INT, NodeInputError } from '../../engine/index.js';
import { IMAGE } from '../../sockets/index.js';
import { Tensor } from '../../runtime/tensor.js';
import { UPSCALE_METHODS, commonUpscale, toChannelsFirst, toChannelsLast } from '../../imaging/resample.js';

/** ImageScale's output size; a 0 side keeps the aspect ratio, both 0 keep the size. */
export function scaledSize(h: number, w: number, width: number, height: number): [h: number, w: number] {
  if (width === 0 && height === 0) return [h, w];
  return [height === 0 ? Math.max(1, Math.round((h * width) / w)) : height, width === 0 ? Math.max(1, Math.round((w * height) / h)) : width];
}

/** Resizes images (ComfyUI ImageScale); a 0 width or height keeps the aspect ratio. */
export const ImageScale = defineNode({
  type: 'ImageScale',
  displayName: 'Upscale Image',
  category: 'image/upscaling',
  version: '1.0.0',
  inputs: {
    image: IMAGE,
    upscale_method: COMBO(UPSCALE_METHODS),
    width: INT({ default: 512, min: 0, max: 16384, step: 1 }),
    height: INT({ default: 512, min: 0, max: 16384, step: 1 }),
    crop: COMBO(['disabled', 'center']),
  },
  outputs: { IMAGE },
  infer: ({ width, height }, { image }) => {
    if (!image || width === undefined || height === undefined) return {};
    const [b, h, w, c] = image as [number, number, number, number];
    return { IMAGE: [b, ...scaledSize(h, w, width, height), c] };
  },
  run(_ctx, { image, upscale_method, width, height, crop }) {
    if (width === 0 && height === 0) return { IMAGE: image };
    const [, h, w] = image.shape as [number, number, number, number];
    const [outH, outW] = scaledSize(h, w, width, height);
    const scaled = commonUpscale(toChannelsFirst(image), outW, outH, upscale_method, crop);
    return { IMAGE: toChannelsLast(scaled) };
  },
});

/** 1 - x on every pixel (ComfyUI ImageInvert). */
export const ImageInvert = defineNode({
  type: 'ImageInvert',
  displayName: 'Invert Image',
  category: 'image',
  version: '1.0.0',
  inputs: { image: IMAGE },
  outputs: { IMAGE },
  infer: (_v, { image }) => ({ IMAGE: image }),
  run(_ctx, { image }) {
    const out = new Float32Array(image.size);
    for (let i = 0; i < out.length; i++) out[i] = 1 - image.data[i]!;
    return { IMAGE: new Tensor('float32', out, image.shape) };
  },
});

/** Concatenates two batches; image2 is resized to image1's size first (ComfyUI ImageBatch, bilinear). */
export const ImageBatch = defineNode({
  type: 'ImageBatch',
  displayName: 'Batch Images',
  category: 'image',
  version: '1.0.0',
  inputs: { image1: IMAGE, image2: IMAGE },
  outputs: { IMAGE },
  infer: (_v, { image1, image2 }) => (image1 && image2 ? { IMAGE: [image1[0]! + image2[0]!, ...image1.slice(1)] } : {}),
  run(_ctx, { image1, image2 }) {
    const [b1, h, w, c] = image1.shape as [number, number, number, number];
    const [, h2, w2, c2] = image2.shape as [number, number, number, number];
    if (c !== c2) throw new NodeInputError('image2', `has ${c2} channels, image1 has ${c}`);
    const second = h2 === h && w2 === w ? image2 : toChannelsLast(commonUpscale(toChannelsFirst(image2), w, h, 'bilinear', 'center'));
    const out = new Float32Array(image1.size + second.size);
    out.set(image1.data, 0);
    out.set(second.data, image1.size);
    return { IMAGE: new Tensor('float32', out, [b1 + second.shape[0]!, h, w, c]) };
  },
});
