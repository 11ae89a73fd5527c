/**
 * Tiled application of a resizing function (an upscale model, a VAE encoder) to [B,C,H,W] planes, with
 * the tiles blended by feathered masks: comfy/utils.py `tiled_scale_multidim` (2-D case) and
 * `get_tiled_scale_steps`.
 */
import { Tensor } from '../runtime/tensor.js';

/** The tiling cannot work as asked (a tile no larger than its overlap, a function returning the wrong size). */
export class TilingError extends Error {
  override readonly name = 'TilingError';
}

/** Python's round(): halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : r;
}

/** One tile along one axis: where it starts and how long it is. */
export interface Span {
  readonly pos: number;
  readonly len: number;
}

/**
 * Tiles along an axis of `size` (tiled_scale_multidim's `positions`): one tile when it fits, else starts
 * every `tile - overlap` below `size - overlap`, each clamped to `size - overlap` and cut at the end.
 * `full` (for models with a fixed input size) instead moves a short last tile back so it keeps `tile`.
 */
export function tileSpans(size: number, tile: number, overlap: number, full = false): Span[] {
  if (size <= tile) return [{ pos: 0, len: size }];
  const stride = tile - overlap;
  if (stride <= 0) throw new TilingError(`a tile of ${tile} with an overlap of ${overlap} never advances`);
  const spans: Span[] = [];
  for (let it = 0; it < size - overlap; it += stride) {
    const pos = full ? Math.min(it, size - tile) : Math.max(0, Math.min(size - overlap, it));
    spans.push({ pos, len: Math.min(tile, size - pos) });
  }
  return spans;
}

/** comfy.utils.get_tiled_scale_steps: tiles per image for a tiling (rows x columns). */
export function tiledScaleSteps(width: number, height: number, tileX: number, tileY: number, overlap: number): number {
  const rows = height <= tileY ? 1 : Math.ceil((height - overlap) / (tileY - overlap));
  const cols = width <= tileX ? 1 : Math.ceil((width - overlap) / (tileX - overlap));
  return rows * cols;
}

/** tiled_scale's feathering along one axis: ramps (t + 1) / feather at both ends, in float32. */
export function featherRamp(n: number, feather: number): Float32Array {
  const m = new Float32Array(n).fill(1);
  if (feather >= n) return m;
  for (let t = 0; t < feather; t++) {
    const a = (t + 1) / feather;
    m[t] = Math.fround(m[t]! * a);
    m[n - 1 - t] = Math.fround(m[n - 1 - t]! * a);
  }
  return m;
}

export interface TiledScaleOptions {
  readonly tileX: number;
  readonly tileY: number;
  readonly overlap: number;
  /** Output pixels per input pixel: 4 for an x4 upscaler, 1/8 for an SD VAE encoder. */
  readonly scale: number;
  readonly outChannels: number;
  /** 'nhwc' writes an IMAGE-layout result directly (no second full-size buffer); default 'nchw'. */
  readonly layout?: 'nchw' | 'nhwc';
  /** Keep every tile at full size along an axis (models exported with a fixed input height / width). */
  readonly fullTilesY?: boolean;
  readonly fullTilesX?: boolean;
  readonly signal?: AbortSignal;
  /** Called after each tile with the tiles done and the total, over the whole batch. */
  readonly onTile?: (done: number, total: number) => void;
}

/** Processes one [1,C,h,w] tile into [1,outC,h',w'] (h' about h x scale). */
export type TileFunction = (tile: Tensor<'float32'>) => Promise<Tensor<'float32'>>;

/** The output size of tiled_scale along an axis (round(size x scale), as Python rounds). */
export function scaledSize(size: number, scale: number): number {
  return roundHalfEven(size * scale);
}

function cutTile(src: Float32Array, C: number, H: number, W: number, b: number, y: Span, x: Span): Tensor<'float32'> {
  const out = new Float32Array(C * y.len * x.len);
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < y.len; i++) {
      const from = ((b * C + c) * H + y.pos + i) * W + x.pos;
      out.set(src.subarray(from, from + x.len), (c * y.len + i) * x.len);
    }
  }
  return new Tensor('float32', out, [1, C, y.len, x.len]);
}

/**
 * Applies `fn` tile by tile and blends the tiles: every tile's output is weighted by a mask that ramps
 * over round(overlap x scale) pixels at each edge, summed, and divided by the summed masks. An image
 * that fits one tile is passed whole. Returns [B,outC,OH,OW] (or [B,OH,OW,outC] with layout 'nhwc').
 */
export async function tiledScale(samples: Tensor<'float32'>, fn: TileFunction, opts: TiledScaleOptions): Promise<Tensor<'float32'>> {
  const [B, C, H, W] = samples.shape as [number, number, number, number];
  const OC = opts.outChannels;
  const OH = scaledSize(H, opts.scale);
  const OW = scaledSize(W, opts.scale);
  const nhwc = opts.layout === 'nhwc';
  const out = new Float32Array(B * OC * OH * OW);
  // Element (b, c, y, x) of the result lives at base(b) + c * cs + y * ys + x * xs.
  const cs = nhwc ? 1 : OH * OW;
  const ys = nhwc ? OW * OC : OW;
  const xs = nhwc ? OC : 1;
  const spansY = tileSpans(H, opts.tileY, opts.overlap, opts.fullTilesY);
  const spansX = tileSpans(W, opts.tileX, opts.overlap, opts.fullTilesX);
  const total = B * spansY.length * spansX.length;
  const featherY = roundHalfEven(opts.overlap * opts.scale);
  const featherX = featherY;
  let done = 0;
  const wsum = spansY.length * spansX.length > 1 ? new Float32Array(OH * OW) : undefined;

  for (let b = 0; b < B; b++) {
    const base = b * OC * OH * OW;
    wsum?.fill(0);
    for (const sy of spansY) {
      for (const sx of spansX) {
        opts.signal?.throwIfAborted();
        const ps = await fn(cutTile(samples.data, C, H, W, b, sy, sx));
        const [, pc, ph, pw] = ps.shape as [number, number, number, number];
        if (pc < OC) throw new TilingError(`a tile came back with ${pc} channel(s), ${OC} expected`);
        if (!wsum) {
          // The whole image in one tile: its output is the result (tiled_scale copies it as it is).
          if (ph !== OH || pw !== OW) throw new TilingError(`a ${W}x${H} input came back as ${pw}x${ph}, ${OW}x${OH} expected`);
          for (let c = 0; c < OC; c++) {
            for (let i = 0; i < OH; i++) for (let j = 0; j < OW; j++) out[base + c * cs + i * ys + j * xs] = ps.data[(c * ph + i) * pw + j]!;
          }
        } else {
          const my = featherRamp(ph, featherY);
          const mx = featherRamp(pw, featherX);
          const oy = roundHalfEven(sy.pos * opts.scale);
          const ox = roundHalfEven(sx.pos * opts.scale);
          const lh = Math.min(ph, OH - oy);
          const lw = Math.min(pw, OW - ox);
          for (let i = 0; i < lh; i++) {
            for (let j = 0; j < lw; j++) {
              const m = Math.fround(my[i]! * mx[j]!);
              const o = base + (oy + i) * ys + (ox + j) * xs;
              for (let c = 0; c < OC; c++) out[o + c * cs] += ps.data[(c * ph + i) * pw + j]! * m;
              wsum[(oy + i) * OW + ox + j] += m;
            }
          }
        }
        opts.onTile?.(++done, total);
      }
    }
    if (wsum) {
      for (let p = 0; p < OH * OW; p++) {
        const w = wsum[p]!;
        const o = base + Math.floor(p / OW) * ys + (p % OW) * xs;
        for (let c = 0; c < OC; c++) out[o + c * cs] /= w;
      }
    }
  }
  return new Tensor('float32', out, nhwc ? [B, OH, OW, OC] : [B, OC, OH, OW]);
}
