/**
 * VAEEncodeTiled (ComfyUI nodes.py VAEEncodeTiled -> comfy/sd.py VAE.encode_tiled / encode_tiled_): the
 * pixels, cropped to the VAE's multiple, are encoded three times with comfy.utils.tiled_scale (square,
 * wide and tall tiles: tile x tile, 2 tile x tile/2, tile/2 x 2 tile), and the three latents averaged.
 * The temporal inputs only matter to video VAEs; image VAEs ignore them, as ComfyUI does.
 */
import { INT, NodeInputError, defineNode } from '../../engine/index.js';
import { Tensor } from '../../runtime/tensor.js';
import { IMAGE, LATENT, VAE, type VaeModel } from '../../sockets/index.js';
import { tiledScale, tiledScaleSteps, TilingError } from '../../imaging/tiled-scale.js';
import { cropToMultiple, encodeMean, imageToVaeInput, VaeError } from './vae-codec.js';
import { latentOfImage } from './shape-rules.js';
import { vaeTiledEncodeWorkBytes } from './memory-rules.js';

export interface TiledEncodeOptions {
  readonly signal?: AbortSignal;
  readonly onTile?: (done: number, total: number) => void;
}

/** The three tilings of encode_tiled_ as [tileX, tileY], in its order of summation. */
export function encodeTilings(tile: number): [number, number][] {
  return [[tile, tile], [tile * 2, Math.floor(tile / 2)], [Math.floor(tile / 2), tile * 2]];
}

/** Encodes IMAGE pixels [B,H,W,C] tile by tile; returns the latent mean [B,C,H/f,W/f] (raw VAE units). */
export async function encodeTiled(vae: VaeModel, pixels: Tensor<'float32'>, tile: number, overlap: number, opts: TiledEncodeOptions = {}): Promise<Tensor<'float32'>> {
  if (!vae.encoder) throw new VaeError(`VAE '${vae.name}' has no encoder`);
  const px = imageToVaeInput(cropToMultiple(pixels, vae.downscale));
  const [B, , H, W] = px.shape as [number, number, number, number];
  const tilings = encodeTilings(tile);
  for (const [tx, ty] of tilings) {
    // A tile no longer than the overlap never advances (ComfyUI would divide 0 by 0 there).
    if ((W > tx && tx <= overlap) || (H > ty && ty <= overlap)) {
      throw new NodeInputError('overlap', `an overlap of ${overlap} leaves ${tx}x${ty} tiles nothing to advance by; use an overlap below ${Math.floor(tile / 2)}`);
    }
  }
  const s = await vae.encoder.get();
  const total = tilings.reduce((n, [tx, ty]) => n + B * tiledScaleSteps(W, H, tx, ty, overlap), 0);
  let done = 0;
  const sum = new Float32Array(B * vae.latentChannels * Math.round(H / vae.downscale) * Math.round(W / vae.downscale));
  let shape: readonly number[] = [];
  for (const [tx, ty] of tilings) {
    const t = await tiledScale(px, (tileIn) => encodeMean(s, tileIn, opts.signal), {
      tileX: tx, tileY: ty, overlap, scale: 1 / vae.downscale, outChannels: vae.latentChannels,
      signal: opts.signal, onTile: () => opts.onTile?.(++done, total),
    });
    if (t.size !== sum.length) throw new TilingError(`the tiled latent is [${t.shape.join(',')}], ${sum.length} values expected`);
    for (let i = 0; i < sum.length; i++) sum[i] += t.data[i]!;
    shape = t.shape;
  }
  for (let i = 0; i < sum.length; i++) sum[i] /= tilings.length;
  return new Tensor('float32', sum, shape);
}

export const VAEEncodeTiled = defineNode({
  type: 'VAEEncodeTiled',
  displayName: 'VAE Encode (Tiled)',
  category: '_for_testing',
  version: '1.0.0',
  inputs: {
    pixels: IMAGE,
    vae: VAE,
    tile_size: INT({ default: 512, min: 64, max: 4096, step: 64, advanced: true }),
    overlap: INT({ default: 64, min: 0, max: 4096, step: 32, advanced: true }),
    temporal_size: INT({ default: 64, min: 8, max: 4096, step: 4, tooltip: 'Only used for video VAEs: Amount of frames to encode at a time.', advanced: true }),
    temporal_overlap: INT({ default: 8, min: 4, max: 4096, step: 4, tooltip: 'Only used for video VAEs: Amount of frames to overlap.', advanced: true }),
  },
  outputs: { LATENT },
  infer: (_v, { pixels }) => ({ LATENT: pixels && latentOfImage(pixels) }),
  workBytes: ({ tile_size }, { pixels }) => vaeTiledEncodeWorkBytes(pixels, tile_size),
  async run(ctx, { pixels, vae, tile_size, overlap }) {
    const samples = await encodeTiled(vae, pixels, tile_size, overlap, { signal: ctx.signal, onTile: (d, t) => ctx.progress(d, t) });
    return { LATENT: { samples } };
  },
});
