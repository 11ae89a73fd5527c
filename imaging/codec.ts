import sharp from 'sharp';
import { Tensor } from '../runtime/tensor.js';

/** A decoded picture as ComfyUI hands it around: IMAGE [1,H,W,3] in 0..1 and MASK [1,H,W] (1 = transparent). */
export interface DecodedImage {
  readonly image: Tensor<'float32'>;
  readonly mask: Tensor<'float32'>;
  readonly hasAlpha: boolean;
}

/** Decodes any format sharp reads; EXIF orientation applied as ComfyUI's LoadImage does. */
export async function decodeImage(bytes: Uint8Array): Promise<DecodedImage> {
  const { data, info } = await sharp(bytes).rotate().ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const meta = await sharp(bytes).metadata();
  const { width: w, height: h } = info;
  const rgb = new Float32Array(w * h * 3);
  const mask = new Float32Array(w * h);
  for (let i = 0, p = 0; i < w * h; i++, p += 4) {
    rgb[i * 3] = data[p]! / 255;
    rgb[i * 3 + 1] = data[p + 1]! / 255;
    rgb[i * 3 + 2] = data[p + 2]! / 255;
    mask[i] = 1 - data[p + 3]! / 255;
  }
  return { image: new Tensor('float32', rgb, [1, h, w, 3]), mask: new Tensor('float32', mask, [1, h, w]), hasAlpha: meta.hasAlpha === true };
}

/** Pixel size after EXIF orientation, and whether there is alpha, read from the header only. */
export async function imageHeader(bytes: Uint8Array): Promise<{ width: number; height: number; hasAlpha: boolean }> {
  const meta = await sharp(bytes).metadata();
  if (!meta.width || !meta.height) throw new RangeError('the image has no size');
  // Orientations 5-8 turn the picture a quarter, which LoadImage applies.
  const turned = (meta.orientation ?? 1) >= 5;
  return { width: turned ? meta.height : meta.width, height: turned ? meta.width : meta.height, hasAlpha: meta.hasAlpha === true };
}

/**
 * Row `b` of an IMAGE batch as 8-bit, as ComfyUI's SaveImage makes it: numpy's float32
 * `clip(255 * x, 0, 255).astype(uint8)`, which truncates (so k/255 comes back as k).
 */
export function toRgb8(images: Tensor<'float32'>, b: number): { data: Uint8Array; width: number; height: number; channels: number } {
  const [, h, w, c] = images.shape as [number, number, number, number];
  const n = h * w * c;
  const src = images.data.subarray(b * n, (b + 1) * n);
  const out = new Uint8Array(n);
  // Storing into a Uint8Array truncates toward zero; NaN stores as 0.
  for (let i = 0; i < n; i++) {
    const v = Math.fround(src[i]! * 255);
    out[i] = v > 0 ? (v < 255 ? v : 255) : 0;
  }
  return { data: out, width: w, height: h, channels: c };
}

/** Encodes row `b` of an IMAGE batch as PNG. */
export async function encodePng(images: Tensor<'float32'>, b: number, compressionLevel = 4): Promise<Uint8Array> {
  const { data, width, height, channels } = toRgb8(images, b);
  if (channels !== 1 && channels !== 3 && channels !== 4) throw new RangeError(`cannot encode an image with ${channels} channels`);
  return new Uint8Array(await sharp(data, { raw: { width, height, channels } }).png({ compressionLevel }).toBuffer());
}

/** Encodes row `b` of an IMAGE batch as JPEG (previews). */
export async function encodeJpeg(images: Tensor<'float32'>, b: number, quality = 85): Promise<Uint8Array> {
  const { data, width, height, channels } = toRgb8(images, b);
  if (channels !== 1 && channels !== 3 && channels !== 4) throw new RangeError(`cannot encode an image with ${channels} channels`);
  return new Uint8Array(await sharp(data, { raw: { width, height, channels } }).jpeg({ quality }).toBuffer());
}
