/**
 * Small image nodes of ComfyUI core: ImageScaleBy, EmptyImage, ImagePadForOutpaint (nodes.py) and
 * ImageCrop (comfy_extras/nodes_images.py). IMAGE is [B,H,W,C], MASK [B,H,W].
 */
import { defineNode, COMBO, FLOAT, INT, NodeInputError, type Shape } from '../../engine/index.js';
import { IMAGE, MASK } from '../../sockets/index.js';
import { Tensor } from '../../runtime/tensor.js';
import { UPSCALE_METHODS, commonUpscale, toChannelsFirst, toChannelsLast } from '../../imaging/resample.js';
import { pySlice } from '../../imaging/py-slice.js';

/** ComfyUI nodes.py MAX_RESOLUTION. */
export const MAX_RESOLUTION = 16384;

/** Python's round(): halves go to the even neighbour (round(2.5) == 2), unlike Math.round. */
export function pythonRound(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : r;
}

/** ImageScaleBy's output [h, w]: each side times the factor, rounded as Python does. */
export function scaleBySize(h: number, w: number, scaleBy: number): [h: number, w: number] {
  return [pythonRound(h * scaleBy), pythonRound(w * scaleBy)];
}

export const ImageScaleBy = defineNode({
  type: 'ImageScaleBy',
  displayName: 'Upscale Image By',
  category: 'image/upscaling',
  version: '1.0.0',
  inputs: {
    image: IMAGE,
    upscale_method: COMBO(UPSCALE_METHODS),
    scale_by: FLOAT({ default: 1.0, min: 0.01, max: 8.0, step: 0.01 }),
  },
  outputs: { IMAGE },
  infer: ({ scale_by }, { image }) => {
    if (!image || scale_by === undefined) return {};
    const [b, h, w, c] = image as [number, number, number, number];
    return { IMAGE: [b, ...scaleBySize(h, w, scale_by), c] };
  },
  run(_ctx, { image, upscale_method, scale_by }) {
    const [, h, w] = image.shape as [number, number, number, number];
    const [outH, outW] = scaleBySize(h, w, scale_by);
    if (outH < 1 || outW < 1) throw new NodeInputError('scale_by', `${scale_by} shrinks a ${w}x${h} image to nothing`);
    return { IMAGE: toChannelsLast(commonUpscale(toChannelsFirst(image), outW, outH, upscale_method, 'disabled')) };
  },
});

/** EmptyImage's colour as [r, g, b] in 0..1 from a 0xRRGGBB integer. */
export function colourOf(color: number): [r: number, g: number, b: number] {
  return [((color >> 16) & 0xff) / 0xff, ((color >> 8) & 0xff) / 0xff, (color & 0xff) / 0xff];
}

export const EmptyImage = defineNode({
  type: 'EmptyImage',
  category: 'image',
  version: '1.0.0',
  inputs: {
    width: INT({ default: 512, min: 1, max: MAX_RESOLUTION, step: 1 }),
    height: INT({ default: 512, min: 1, max: MAX_RESOLUTION, step: 1 }),
    batch_size: INT({ default: 1, min: 1, max: 4096 }),
    // NOTE: ComfyUI shows this as a colour picker (display: "color"); our INT widget offers number/slider only.
    color: INT({ default: 0, min: 0, max: 0xffffff, step: 1 }),
  },
  outputs: { IMAGE },
  infer: ({ width, height, batch_size }) => (width !== undefined && height !== undefined ? { IMAGE: [batch_size ?? 1, height, width, 3] } : {}),
  run(_ctx, { width, height, batch_size, color }) {
    const rgb = colourOf(color);
    const out = new Float32Array(batch_size * height * width * 3);
    for (let i = 0; i < out.length; i++) out[i] = rgb[i % 3]!;
    return { IMAGE: new Tensor('float32', out, [batch_size, height, width, 3]) };
  },
});

export interface Padding {
  readonly left: number;
  readonly top: number;
  readonly right: number;
  readonly bottom: number;
}

/** ImagePadForOutpaint's output shapes: IMAGE [B,H',W',C] and its MASK [1,H',W']. */
export function padShapes(image: Shape, p: Padding): { IMAGE: Shape; MASK: Shape } {
  const [b, h, w, c] = image as [number, number, number, number];
  const H = h + p.top + p.bottom;
  const W = w + p.left + p.right;
  return { IMAGE: [b, H, W, c], MASK: [1, H, W] };
}

/**
 * The outpainting mask of ComfyUI nodes.py ImagePadForOutpaint: 1 on the new border; inside the
 * original picture 0, except within `feathering` pixels of a padded side, where it is
 * ((feathering - d) / feathering)^2 with d the distance to the nearest padded side. Feathering only
 * applies when it is less than half of both sides.
 */
export function outpaintMask(h: number, w: number, p: Padding, feathering: number): Tensor<'float32'> {
  const H = h + p.top + p.bottom;
  const W = w + p.left + p.right;
  const mask = new Float32Array(H * W).fill(1);
  const feather = feathering > 0 && feathering * 2 < h && feathering * 2 < w;
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      let v = 0;
      if (feather) {
        const d = Math.min(p.top !== 0 ? i : h, p.bottom !== 0 ? h - i : h, p.left !== 0 ? j : w, p.right !== 0 ? w - j : w);
        if (d < feathering) v = ((feathering - d) / feathering) ** 2;
      }
      mask[(p.top + i) * W + p.left + j] = v;
    }
  }
  return new Tensor('float32', mask, [1, H, W]);
}

export const ImagePadForOutpaint = defineNode({
  type: 'ImagePadForOutpaint',
  displayName: 'Pad Image for Outpainting',
  category: 'image',
  version: '1.0.0',
  inputs: {
    image: IMAGE,
    left: INT({ default: 0, min: 0, max: MAX_RESOLUTION, step: 8 }),
    top: INT({ default: 0, min: 0, max: MAX_RESOLUTION, step: 8 }),
    right: INT({ default: 0, min: 0, max: MAX_RESOLUTION, step: 8 }),
    bottom: INT({ default: 0, min: 0, max: MAX_RESOLUTION, step: 8 }),
    feathering: INT({ default: 40, min: 0, max: MAX_RESOLUTION, step: 1 }),
  },
  outputs: { IMAGE, MASK },
  infer: ({ left, top, right, bottom }, { image }) => {
    if (!image || left === undefined || top === undefined || right === undefined || bottom === undefined) return {};
    return padShapes(image, { left, top, right, bottom });
  },
  run(_ctx, { image, left, top, right, bottom, feathering }) {
    const [b, h, w, c] = image.shape as [number, number, number, number];
    const p = { left, top, right, bottom };
    const shape = padShapes(image.shape, p).IMAGE;
    const W = w + left + right;
    const H = h + top + bottom;
    // The new border is mid-grey, as ComfyUI fills it.
    const out = new Float32Array(b * H * W * c).fill(0.5);
    for (let n = 0; n < b; n++) {
      for (let y = 0; y < h; y++) {
        const src = ((n * h + y) * w) * c;
        out.set(image.data.subarray(src, src + w * c), ((n * H + top + y) * W + left) * c);
      }
    }
    return { IMAGE: new Tensor('float32', out, shape), MASK: outpaintMask(h, w, p, feathering) };
  },
});

/** ImageCrop's window: x and y are clamped to the last pixel, the window to the picture. */
export function cropWindow(h: number, w: number, width: number, height: number, x: number, y: number): { x: number; y: number; h: number; w: number } {
  const [x0, x1] = pySlice(Math.min(x, w - 1), Math.min(x, w - 1) + width, w);
  const [y0, y1] = pySlice(Math.min(y, h - 1), Math.min(y, h - 1) + height, h);
  return { x: x0, y: y0, h: y1 - y0, w: x1 - x0 };
}

export const ImageCrop = defineNode({
  type: 'ImageCrop',
  displayName: 'Image Crop',
  category: 'image/transform',
  version: '1.0.0',
  inputs: {
    image: IMAGE,
    width: INT({ default: 512, min: 1, max: MAX_RESOLUTION, step: 1 }),
    height: INT({ default: 512, min: 1, max: MAX_RESOLUTION, step: 1 }),
    x: INT({ default: 0, min: 0, max: MAX_RESOLUTION, step: 1 }),
    y: INT({ default: 0, min: 0, max: MAX_RESOLUTION, step: 1 }),
  },
  outputs: { IMAGE },
  infer: ({ width, height, x, y }, { image }) => {
    if (!image || width === undefined || height === undefined || x === undefined || y === undefined) return {};
    const [b, h, w, c] = image as [number, number, number, number];
    const win = cropWindow(h, w, width, height, x, y);
    return { IMAGE: [b, win.h, win.w, c] };
  },
  run(_ctx, { image, width, height, x, y }) {
    const [b, h, w, c] = image.shape as [number, number, number, number];
    const win = cropWindow(h, w, width, height, x, y);
    const out = new Float32Array(b * win.h * win.w * c);
    for (let n = 0; n < b; n++) {
      for (let r = 0; r < win.h; r++) {
        const src = ((n * h + win.y + r) * w + win.x) * c;
        out.set(image.data.subarray(src, src + win.w * c), (n * win.h + r) * win.w * c);
      }
    }
    return { IMAGE: new Tensor('float32', out, [b, win.h, win.w, c]) };
  },
});
