/**
 * Running an upscale model over an IMAGE: comfy_extras/nodes_upscale_model.py ImageUpscaleWithModel.execute
 * (tiles of 512 with an overlap of 32 blended by comfy.utils.tiled_scale, halved down to 128 on an
 * out-of-memory error, output clamped to 0..1, an alpha channel upscaled bilinearly beside the model),
 * with each tile called as spandrel's ImageModelDescriptor.__call__ does (padded to the sizes the model
 * accepts, the padding cut off again, clamped to 0..1).
 */
import { InferenceError } from '../../runtime/errors.js';
import { Tensor } from '../../runtime/tensor.js';
import { resizePlanes } from '../../imaging/resample.js';
import { scaledSize, tiledScale, TilingError } from '../../imaging/tiled-scale.js';
import { UpscaleModelError } from './errors.js';
import type { UpscaleGeometry, UpscaleModel } from './types.js';

/** ImageUpscaleWithModel's first tile size and overlap, in input pixels. */
export const UPSCALE_TILE = 512;
export const UPSCALE_OVERLAP = 32;
/** The smallest tile the out-of-memory fallback tries (ComfyUI gives up below 128). */
export const MIN_UPSCALE_TILE = 128;
/** ComfyUI nodes.py MAX_RESOLUTION: no side of a result may exceed it. */
export const MAX_UPSCALE_SIDE = 16384;

/** The result would be too large to hold; raised before any of it is allocated. */
export class UpscaleSizeError extends Error {
  override readonly name = 'UpscaleSizeError';
}

export interface UpscaleOptions {
  /** First tile size (default 512); halved on out-of-memory errors down to 128. */
  readonly tile?: number;
  readonly overlap?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (done: number, total: number) => void;
  readonly log?: (message: string) => void;
}

/** onnxruntime's allocation failures (BFC arena, std::bad_alloc) and V8's failed typed-array allocations. */
export function isOutOfMemory(e: unknown): boolean {
  if (e instanceof RangeError) return /alloc|memory/i.test(e.message);
  return e instanceof InferenceError && /alloc|out of memory|\boom\b/i.test(e.message);
}

/** [B,H,W,C] -> [B,3,H,W] (the colour channels). */
function rgbPlanes(image: Tensor<'float32'>): Tensor<'float32'> {
  const [B, H, W, C] = image.shape as [number, number, number, number];
  const out = new Float32Array(B * 3 * H * W);
  for (let b = 0; b < B; b++) {
    for (let p = 0; p < H * W; p++) {
      const src = (b * H * W + p) * C;
      for (let c = 0; c < 3; c++) out[(b * 3 + c) * H * W + p] = image.data[src + Math.min(c, C - 1)]!;
    }
  }
  return new Tensor('float32', out, [B, 3, H, W]);
}

/** Index of a padded position: reflected once (torch 'reflect'), then clamped (torch 'replicate'). */
function padIndex(i: number, n: number, reflect: number): number {
  if (i < n) return i;
  if (i < n + reflect) return 2 * (n - 1) - i;
  return Math.max(0, 2 * (n - 1) - (n - 1 + reflect));
}

/** spandrel pad_tensor: pads the bottom and right of a [1,C,h,w] tile to H x W, reflecting up to size-1 then replicating. */
export function padTile(t: Tensor<'float32'>, H: number, W: number): Tensor<'float32'> {
  const [, C, h, w] = t.shape as [number, number, number, number];
  if (H === h && W === w) return t;
  const ry = Math.min(H - h, h - 1);
  const rx = Math.min(W - w, w - 1);
  const out = new Float32Array(C * H * W);
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < H; i++) {
      const si = padIndex(i, h, ry);
      for (let j = 0; j < W; j++) out[(c * H + i) * W + j] = t.data[(c * h + si) * w + padIndex(j, w, rx)]!;
    }
  }
  return new Tensor('float32', out, [1, C, H, W]);
}

const ceilTo = (n: number, m: number) => Math.ceil(n / m) * m;

/** One model call on one tile: padded to what the model accepts, cropped back to h x scale, clamped to 0..1. */
async function runTile(model: UpscaleModel, geo: UpscaleGeometry, tile: Tensor<'float32'>, signal?: AbortSignal): Promise<Tensor<'float32'>> {
  const [, , h, w] = tile.shape as [number, number, number, number];
  const H = geo.fixedH ?? ceilTo(h, geo.multipleOf);
  const W = geo.fixedW ?? ceilTo(w, geo.multipleOf);
  const s = await model.session.get();
  const { input, output } = model.signature;
  const res = (await s.run({ [input]: padTile(tile, H, W) }, { outputs: [[output]], signal }))[output];
  if (!res || res.dtype !== 'float32' || res.shape.length !== 4 || res.shape[1] !== 3) {
    throw new UpscaleModelError(`${model.name} returned ${res ? `${res.dtype}[${res.shape.join(',')}]` : 'nothing'} for a [1,3,${H},${W}] tile; an RGB image was expected`);
  }
  const [, , ph, pw] = res.shape as [number, number, number, number];
  const oh = scaledSize(h, geo.scale);
  const ow = scaledSize(w, geo.scale);
  if (ph < oh || pw < ow) throw new TilingError(`${model.name} returned ${pw}x${ph} for a ${W}x${H} tile, at least ${ow}x${oh} expected (x${geo.scale})`);
  const data = res.data;
  if (ph === oh && pw === ow) {
    // Nothing to cut off: clamp the model's own buffer in place (no second tile-sized copy).
    for (let i = 0; i < data.length; i++) data[i] = data[i]! < 0 ? 0 : data[i]! > 1 ? 1 : data[i]!;
    return new Tensor('float32', data, [1, 3, oh, ow]);
  }
  const out = new Float32Array(3 * oh * ow);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        const v = data[(c * ph + i) * pw + j]!;
        out[(c * oh + i) * ow + j] = v < 0 ? 0 : v > 1 ? 1 : v;
      }
    }
  }
  return new Tensor('float32', out, [1, 3, oh, ow]);
}

/** Refuses results no image can hold, with the sizes, before anything is allocated. */
export function checkResultSize(B: number, H: number, W: number, C: number, scale: number, name: string): [oh: number, ow: number] {
  const oh = scaledSize(H, scale);
  const ow = scaledSize(W, scale);
  if (oh > MAX_UPSCALE_SIDE || ow > MAX_UPSCALE_SIDE || B * oh * ow * C > 2 ** 31) {
    throw new UpscaleSizeError(
      `upscaling ${B > 1 ? `${B} images of ` : 'a '}${W}x${H} x${scale} with ${name} would give ${ow}x${oh}` +
        `${B > 1 ? ` x${B}` : ''}, above the limit of ${MAX_UPSCALE_SIDE} pixels per side (ComfyUI MAX_RESOLUTION); scale the image down first`,
    );
  }
  return [oh, ow];
}

/** Upscales an IMAGE [B,H,W,C] (C = 3, or 4 with alpha) with a model; returns [B,H*s,W*s,C] in 0..1. */
export async function upscaleImage(model: UpscaleModel, image: Tensor<'float32'>, opts: UpscaleOptions = {}): Promise<Tensor<'float32'>> {
  const [B, H, W, C] = image.shape as [number, number, number, number];
  const geo = await model.geometry(opts.signal);
  const [oh, ow] = checkResultSize(B, H, W, C, geo.scale, model.name);
  const rgb = rgbPlanes(image);
  const fixed = geo.fixedH !== undefined || geo.fixedW !== undefined;
  let tile = opts.tile ?? UPSCALE_TILE;
  let result: Tensor<'float32'> | undefined;
  while (!result) {
    const tileY = geo.fixedH ?? tile;
    const tileX = geo.fixedW ?? tile;
    // NOTE: a fixed-size export may be small (SwinIR at 64): its overlap shrinks to a quarter tile.
    const overlap = Math.min(opts.overlap ?? UPSCALE_OVERLAP, fixed ? Math.floor(Math.min(tileY, tileX) / 4) : Infinity);
    try {
      result = await tiledScale(rgb, (t) => runTile(model, geo, t, opts.signal), {
        tileX, tileY, overlap, scale: geo.scale, outChannels: 3, layout: 'nhwc',
        fullTilesY: geo.fixedH !== undefined, fullTilesX: geo.fixedW !== undefined,
        signal: opts.signal, onTile: opts.onProgress,
      });
    } catch (e) {
      const next = Math.floor(tile / 2);
      if (!isOutOfMemory(e) || fixed || next < MIN_UPSCALE_TILE) throw e;
      opts.log?.(`out of memory with ${tile}px tiles (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); retrying with ${next}px tiles`);
      tile = next;
    }
  }
  const d = result.data;
  for (let i = 0; i < d.length; i++) d[i] = d[i]! < 0 ? 0 : d[i]! > 1 ? 1 : d[i]!;
  if (C < 4) return result;
  return withAlpha(result, image, oh, ow);
}

/** Appends the image's alpha, resized bilinearly to the result (ImageUpscaleWithModel's alpha handling). */
function withAlpha(rgb: Tensor<'float32'>, image: Tensor<'float32'>, oh: number, ow: number): Tensor<'float32'> {
  const [B, H, W, C] = image.shape as [number, number, number, number];
  const alpha = new Float32Array(B * H * W);
  for (let p = 0; p < alpha.length; p++) alpha[p] = image.data[p * C + 3]!;
  const big = resizePlanes(new Tensor('float32', alpha, [B, 1, H, W]), oh, ow, 'bilinear').data;
  const out = new Float32Array(B * oh * ow * 4);
  for (let p = 0; p < B * oh * ow; p++) {
    out[p * 4] = rgb.data[p * 3]!;
    out[p * 4 + 1] = rgb.data[p * 3 + 1]!;
    out[p * 4 + 2] = rgb.data[p * 3 + 2]!;
    out[p * 4 + 3] = big[p]!;
  }
  return new Tensor('float32', out, [B, oh, ow, 4]);
}
