import type { Metadata } from 'sharp';
import { Tensor } from '../runtime/tensor.js';

type SharpFn = typeof import('sharp').default;
let sharpModule: Promise<SharpFn> | undefined;

/**
 * sharp, loaded on first use: importing it starts libvips (about 0.1 s of CPU, more on a busy machine), which
 * every command paid at start-up (`latentflow nodes`, `--help`) although most never touch a picture.
 */
export function loadSharp(): Promise<SharpFn> {
  const loading = sharpModule ?? import('sharp').then((m) => m.default);
  sharpModule = loading;
  return loading;
}

/** A decoded picture as ComfyUI hands it around: IMAGE [1,H,W,3] in 0..1 and MASK [1,H,W] (1 = transparent). */
export interface DecodedImage {
  readonly image: Tensor<'float32'>;
  readonly mask: Tensor<'float32'>;
  readonly hasAlpha: boolean;
}

/**
 * The largest picture latentflow decodes: 8192 x 8192 = 67,108,864 pixels (64 Mpx). Decoding is what
 * costs: LoadImage's IMAGE + MASK take 16 bytes a pixel (1 GiB at the limit), so a 31 KB 1-bit PNG
 * of 16000 x 16000 would otherwise ask for 4 GiB. ComfyUI (PIL) refuses above ~179 Mpx; every
 * latentflow use (SD 1.5 / SDXL sizes, 4x upscales of 2048) stays far below 64 Mpx.
 */
export const MAX_IMAGE_PIXELS = 8192 * 8192;

/** A picture whose header declares more pixels than the limit; refused before any decoding. */
export class ImageTooLargeError extends RangeError {
  override name = 'ImageTooLargeError';
  constructor(
    readonly width: number,
    readonly height: number,
    readonly limit: number,
  ) {
    super(`the image is ${width}x${height} = ${(width * height).toLocaleString('en-US')} pixels, above the limit of ${limit.toLocaleString('en-US')} pixels`);
  }
}

/** Throws ImageTooLargeError when `width x height` exceeds `limit`. */
export function checkImagePixels(width: number, height: number, limit = MAX_IMAGE_PIXELS): void {
  if (width * height > limit) throw new ImageTooLargeError(width, height, limit);
}

/**
 * Reads the header only (no pixel decoding) and refuses pictures above `limit` pixels. Returns
 * sharp's metadata; throws sharp's error when the bytes are not an image it reads.
 */
export async function checkedMetadata(input: Uint8Array | string, limit = MAX_IMAGE_PIXELS): Promise<Metadata> {
  const meta = await (await loadSharp())(input, { limitInputPixels: false }).metadata();
  checkImagePixels(meta.width ?? 0, meta.height ?? 0, limit);
  return meta;
}

/**
 * Decodes any format sharp reads; EXIF orientation applied as ComfyUI's LoadImage does. The header
 * is checked against `maxPixels` first, so an oversized picture is refused before it is decoded.
 */
export async function decodeImage(bytes: Uint8Array, maxPixels = MAX_IMAGE_PIXELS): Promise<DecodedImage> {
  const meta = await checkedMetadata(bytes, maxPixels);
  const sharp = await loadSharp();
  const { data, info } = await sharp(bytes, { limitInputPixels: maxPixels }).rotate().ensureAlpha().raw().toBuffer({ resolveWithObject: true });
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
  const meta = await (await loadSharp())(bytes, { limitInputPixels: false }).metadata();
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
  return new Uint8Array(await (await loadSharp())(data, { raw: { width, height, channels } }).png({ compressionLevel }).toBuffer());
}

/** Encodes row `b` of an IMAGE batch as JPEG (previews). */
export async function encodeJpeg(images: Tensor<'float32'>, b: number, quality = 85): Promise<Uint8Array> {
  const { data, width, height, channels } = toRgb8(images, b);
  if (channels !== 1 && channels !== 3 && channels !== 4) throw new RangeError(`cannot encode an image with ${channels} channels`);
  return new Uint8Array(await (await loadSharp())(data, { raw: { width, height, channels } }).jpeg({ quality }).toBuffer());
}
