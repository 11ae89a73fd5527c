/** VAE nodes (ComfyUI nodes.py VAEEncode, VAEDecode, VAEDecodeTiled, VAEEncodeForInpaint). */
import { INT, defineNode } from '../../engine/index.js';
import { resizePlanes } from '../../imaging/resample.js';
import { Tensor } from '../../runtime/tensor.js';
import { IMAGE, LATENT, MASK, VAE } from '../../sockets/index.js';
import { cropToMultiple, decodeLatent, expectVaeScale, vaeDecode, vaeEncode, vaeOutputToImage, VaeError } from './vae-codec.js';
import type { VaeModel } from '../../sockets/index.js';
import { imageOfLatent, latentOfImage } from './shape-rules.js';
import { vaeTiledDecodeWorkBytes, vaeWorkBytes } from './memory-rules.js';

export const VAEEncode = defineNode({
  type: 'VAEEncode',
  displayName: 'VAE Encode',
  category: 'latent',
  version: '1.0.0',
  inputs: { pixels: IMAGE, vae: VAE },
  outputs: { LATENT },
  infer: (_v, { pixels }) => ({ LATENT: pixels && latentOfImage(pixels) }),
  workBytes: (_v, { pixels }) => vaeWorkBytes(pixels),
  async run(ctx, { pixels, vae }) {
    return { LATENT: { samples: await vaeEncode(vae, pixels, ctx.signal) } };
  },
});

export const VAEDecode = defineNode({
  type: 'VAEDecode',
  displayName: 'VAE Decode',
  category: 'latent',
  version: '1.0.0',
  description: 'Decodes latent images back into pixel space images.',
  inputs: { samples: LATENT, vae: VAE },
  outputs: { IMAGE },
  infer: (_v, { samples }) => ({ IMAGE: samples && imageOfLatent(samples) }),
  workBytes: (_v, _s, { IMAGE }) => vaeWorkBytes(IMAGE),
  async run(ctx, { samples, vae }) {
    return { IMAGE: await vaeDecode(vae, samples.samples, ctx.signal) };
  },
});

/** Start offsets and lengths of tiles along one axis (ComfyUI tiled_scale_multidim). */
export function tileSpans(size: number, tile: number, overlap: number): { pos: number; len: number }[] {
  const spans: { pos: number; len: number }[] = [];
  const stride = Math.max(1, tile - overlap);
  for (let it = 0; it < size; it += stride) {
    const pos = Math.max(0, Math.min(size - overlap, it));
    spans.push({ pos, len: Math.min(tile, size - pos) });
  }
  return spans;
}

/** One tiled decode pass: tiles blended with masks that ramp over `overlap` cells on every edge. */
async function decodeTiledPass(vae: VaeModel, latent: Tensor, tileH: number, tileW: number, overlap: number, signal: AbortSignal): Promise<Float32Array> {
  const s = await vae.decoder!.get();
  const [B, C, H, W] = latent.shape;
  const up = vae.downscale;
  const OH = H * up;
  const OW = W * up;
  const acc = new Float32Array(B * 3 * OH * OW);
  const wsum = new Float32Array(B * 3 * OH * OW);
  const feather = Math.round(overlap * up);
  for (const sy of tileSpans(H, tileH, overlap)) {
    for (const sx of tileSpans(W, tileW, overlap)) {
      signal.throwIfAborted();
      const tile = new Float32Array(B * C * sy.len * sx.len);
      for (let bc = 0; bc < B * C; bc++) {
        for (let i = 0; i < sy.len; i++) {
          const src = (bc * H + sy.pos + i) * W + sx.pos;
          tile.set(latent.data.subarray(src, src + sx.len), (bc * sy.len + i) * sx.len);
        }
      }
      const px = await decodeLatent(s, new Tensor('float32', tile, [B, C, sy.len, sx.len]), signal);
      expectVaeScale(vae, [sy.len, sx.len], px.shape, 'decoder');
      const [, PC, th, tw] = px.shape;
      if (PC < 3) throw new VaeError(`the VAE decoder returned ${px.describe()}`);
      const my = ramp(th, feather);
      const mx = ramp(tw, feather);
      for (let b = 0; b < B; b++) {
        for (let c = 0; c < 3; c++) {
          for (let i = 0; i < th; i++) {
            for (let j = 0; j < tw; j++) {
              const m = my[i] * mx[j];
              const o = ((b * 3 + c) * OH + sy.pos * up + i) * OW + sx.pos * up + j;
              acc[o] += px.data[((b * PC + c) * th + i) * tw + j] * m;
              wsum[o] += m;
            }
          }
        }
      }
    }
  }
  for (let i = 0; i < acc.length; i++) acc[i] /= wsum[i];
  return acc;
}

function ramp(n: number, feather: number): Float32Array {
  const m = new Float32Array(n).fill(1);
  for (let t = 0; t < feather; t++) {
    const a = (t + 1) / feather;
    if (t < n) m[t] *= a;
    if (n - 1 - t >= 0) m[n - 1 - t] *= a;
  }
  return m;
}

/** ComfyUI VAE.decode_tiled_: the mean of three tilings (tall, wide, square) to hide seams. */
export async function decodeTiled(vae: VaeModel, latent: Tensor, tileSize: number, overlap: number, signal: AbortSignal): Promise<Tensor> {
  if (!vae.decoder) throw new VaeError(`VAE '${vae.name}' has no decoder`);
  if (tileSize < overlap * 4) overlap = Math.floor(tileSize / 4);
  const t = Math.floor(tileSize / vae.downscale);
  const o = Math.floor(overlap / vae.downscale);
  const passes = [
    [t * 2, Math.floor(t / 2)],
    [Math.floor(t / 2), t * 2],
    [t, t],
  ];
  const [B, , H, W] = latent.shape;
  const sum = new Float32Array(B * 3 * H * vae.downscale * W * vae.downscale);
  for (const [th, tw] of passes) {
    const p = await decodeTiledPass(vae, latent, Math.max(1, th), Math.max(1, tw), o, signal);
    for (let i = 0; i < sum.length; i++) sum[i] += p[i] / passes.length;
  }
  return vaeOutputToImage(new Tensor('float32', sum, [B, 3, H * vae.downscale, W * vae.downscale]));
}

export const VAEDecodeTiled = defineNode({
  type: 'VAEDecodeTiled',
  displayName: 'VAE Decode (Tiled)',
  category: '_for_testing',
  version: '1.0.0',
  inputs: {
    samples: LATENT,
    vae: VAE,
    tile_size: INT({ default: 512, min: 64, max: 4096, step: 32 }),
    overlap: INT({ default: 64, min: 0, max: 4096, step: 32 }),
    temporal_size: INT({ default: 64, min: 8, max: 4096, step: 4, tooltip: 'Only used for video VAEs: Amount of frames to decode at a time.' }),
    temporal_overlap: INT({ default: 8, min: 4, max: 4096, step: 4, tooltip: 'Only used for video VAEs: Amount of frames to overlap.' }),
  },
  outputs: { IMAGE },
  infer: (_v, { samples }) => ({ IMAGE: samples && imageOfLatent(samples) }),
  workBytes: ({ tile_size }, _s, { IMAGE }) => vaeTiledDecodeWorkBytes(IMAGE, tile_size),
  async run(ctx, { samples, vae, tile_size, overlap }) {
    return { IMAGE: await decodeTiled(vae, samples.samples, tile_size, overlap, ctx.signal) };
  },
});

/** Max filter of a 0/1 mask over a g x g window placed as conv2d with padding ceil((g-1)/2) (ComfyUI grow_mask_by). */
export function growMask(mask: Float32Array, B: number, H: number, W: number, g: number): Float32Array {
  if (g === 0) return mask;
  const p = Math.ceil((g - 1) / 2);
  const out = new Float32Array(mask.length);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < W; j++) {
        let hit = 0;
        for (let di = 0; di < g && !hit; di++) {
          const y = i - p + di;
          if (y < 0 || y >= H) continue;
          for (let dj = 0; dj < g; dj++) {
            const x = j - p + dj;
            if (x >= 0 && x < W && Math.round(mask[(b * H + y) * W + x]) > 0) {
              hit = 1;
              break;
            }
          }
        }
        out[(b * H + i) * W + j] = hit;
      }
    }
  }
  return out;
}

export const VAEEncodeForInpaint = defineNode({
  type: 'VAEEncodeForInpaint',
  displayName: 'VAE Encode (for Inpainting)',
  category: 'latent/inpaint',
  version: '1.0.0',
  inputs: { pixels: IMAGE, vae: VAE, mask: MASK, grow_mask_by: INT({ default: 6, min: 0, max: 64, step: 1 }) },
  outputs: { LATENT },
  infer: (_v, { pixels }) => ({ LATENT: pixels && latentOfImage(pixels) }),
  workBytes: (_v, { pixels }) => vaeWorkBytes(pixels),
  async run(ctx, { pixels, vae, mask, grow_mask_by }) {
    const [, PH, PW] = pixels.shape;
    const mh = mask.shape[mask.shape.length - 2];
    const mw = mask.shape[mask.shape.length - 1];
    const mb = mask.size / (mh * mw);
    const full = resizePlanes(new Tensor('float32', mask.data, [mb, 1, mh, mw]), PH, PW, 'bilinear');
    // Crop mask and pixels together to a multiple of the VAE's downscale, centred.
    const cropped = cropToMultiple(pixels, vae.downscale);
    const [B, H, W, C] = cropped.shape;
    const oy = Math.floor((PH % vae.downscale) / 2);
    const ox = Math.floor((PW % vae.downscale) / 2);
    const m = new Float32Array(mb * H * W);
    for (let b = 0; b < mb; b++) for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) m[(b * H + i) * W + j] = full.data[(b * PH + i + oy) * PW + j + ox];
    const grown = growMask(m, mb, H, W, grow_mask_by);
    const px = cropped.data.slice();
    for (let b = 0; b < B; b++) {
      for (let p = 0; p < H * W; p++) {
        const keep = 1 - Math.round(m[(b % mb) * H * W + p]);
        for (let c = 0; c < Math.min(3, C); c++) {
          const k = (b * H * W + p) * C + c;
          px[k] = (px[k] - 0.5) * keep + 0.5;
        }
      }
    }
    const samples = await vaeEncode(vae, new Tensor('float32', px, cropped.shape), ctx.signal);
    const noise_mask = new Tensor('float32', grown.map(Math.round), [mb, 1, H, W]);
    return { LATENT: { samples, noise_mask } };
  },
});
