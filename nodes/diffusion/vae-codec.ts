/**
 * VAE calls (spec/models.md): pixels [B,H,W,3] in 0..1 <-> NCHW in -1..1, the encoder's
 * `latent_sample` or `latent_parameters` (mean then logvar; the mean is used, as ComfyUI does), and the
 * decoder's `sample`. LATENT values are raw VAE latents (ComfyUI's convention); the model scales them.
 */
import { Tensor, type DType } from '../../runtime/tensor.js';
import type { DiffusionSession } from '../../runtime/session-handle.js';
import type { VaeModel } from '../../sockets/index.js';

/** Thrown when a VAE lacks the half a node needs or returns an unexpected tensor. */
export class VaeError extends Error {
  override readonly name = 'VaeError';
}

/** IMAGE [B,H,W,C] (0..1) -> NCHW 3-channel (-1..1). */
export function imageToVaeInput(image: Tensor): Tensor {
  const [B, H, W, C] = image.shape;
  const out = new Float32Array(B * 3 * H * W);
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < 3; c++) {
      const src = Math.min(c, C - 1);
      const o = (b * 3 + c) * H * W;
      for (let p = 0; p < H * W; p++) out[o + p] = image.data[(b * H * W + p) * C + src] * 2 - 1;
    }
  }
  return new Tensor('float32', out, [B, 3, H, W]);
}

/** NCHW (-1..1) -> IMAGE [B,H,W,3] clamped to 0..1. */
export function vaeOutputToImage(t: Tensor): Tensor {
  const [B, C, H, W] = t.shape;
  const plane = H * W;
  const out = new Float32Array(B * plane * 3);
  const src = t.data;
  for (let b = 0; b < B; b++) {
    // A one-channel decoder output is repeated into all three channels.
    const r = b * C * plane;
    const g = (b * C + Math.min(1, C - 1)) * plane;
    const bl = (b * C + Math.min(2, C - 1)) * plane;
    for (let p = 0, q = b * plane * 3; p < plane; p++, q += 3) {
      out[q] = clamp01((src[r + p]! + 1) / 2);
      out[q + 1] = clamp01((src[g + p]! + 1) / 2);
      out[q + 2] = clamp01((src[bl + p]! + 1) / 2);
    }
  }
  return new Tensor('float32', out, [B, H, W, 3]);
}

/** torch.clamp(v, 0, 1): NaN stays NaN. */
function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

function float32Out(t: Tensor<DType> | undefined, what: string): Tensor {
  if (!t || t.dtype !== 'float32' || !(t.data instanceof Float32Array)) throw new VaeError(`the VAE ${what} returned ${t ? t.describe() : 'nothing'}`);
  return new Tensor('float32', t.data, t.shape);
}

/** Runs an encoder session on NCHW pixels; returns the posterior mean [B,C,h,w]. */
export async function encodeMean(s: DiffusionSession, pixels: Tensor, signal?: AbortSignal): Promise<Tensor> {
  const params = s.outputs.some((o) => o.name === 'latent_parameters');
  const inputName = s.inputs[0]?.name ?? 'sample';
  const res = await s.run({ [inputName]: pixels }, { outputs: [params ? ['latent_parameters'] : ['latent_sample', 'latent']], signal });
  const t = float32Out(params ? res.latent_parameters : res.latent_sample, 'encoder');
  if (!params) return t;
  const [B, C2, h, w] = t.shape;
  const C = C2 / 2;
  const out = new Float32Array(B * C * h * w);
  for (let b = 0; b < B; b++) out.set(t.data.subarray(b * C2 * h * w, (b * C2 + C) * h * w), b * C * h * w);
  return new Tensor('float32', out, [B, C, h, w]);
}

/** Runs a decoder session on raw latents; returns NCHW pixels in about -1..1. */
export async function decodeLatent(s: DiffusionSession, latent: Tensor, signal?: AbortSignal): Promise<Tensor> {
  const inputName = s.inputs[0]?.name ?? 'latent_sample';
  const res = await s.run({ [inputName]: latent }, { outputs: [['sample', 'images']], signal });
  return float32Out(res.sample, 'decoder');
}

/** Pixels cropped to a multiple of the VAE's downscale, centred (ComfyUI VAEEncode.vae_encode_crop_pixels). */
export function cropToMultiple(image: Tensor, m: number): Tensor {
  const [B, H, W, C] = image.shape;
  const h = Math.floor(H / m) * m;
  const w = Math.floor(W / m) * m;
  if (h === H && w === W) return image;
  const oy = Math.floor((H % m) / 2);
  const ox = Math.floor((W % m) / 2);
  const out = new Float32Array(B * h * w * C);
  for (let b = 0; b < B; b++) {
    for (let y = 0; y < h; y++) {
      const src = ((b * H + y + oy) * W + ox) * C;
      out.set(image.data.subarray(src, src + w * C), (b * h + y) * w * C);
    }
  }
  return new Tensor('float32', out, [B, h, w, C]);
}

/**
 * Refuses a VAE whose graph scales by another factor than its config says: `pixels` [.., H, W] must be `latent`
 * [.., h, w] times vae.downscale.
 */
export function expectVaeScale(vae: VaeModel, latent: readonly number[], pixels: readonly number[], what: 'encoder' | 'decoder'): void {
  const [h, w] = latent.slice(-2);
  const [H, W] = pixels.slice(-2);
  if (H === h * vae.downscale && W === w * vae.downscale) return;
  const [from, to] = what === 'encoder' ? [`${H}x${W} pixels`, `a ${h}x${w} latent`] : [`a ${h}x${w} latent`, `${H}x${W} pixels`];
  throw new VaeError(
    `VAE '${vae.name}': its ${what} turned ${from} into ${to}, but its config (block_out_channels) gives a factor of ${vae.downscale}`,
  );
}

export async function vaeEncode(vae: VaeModel, image: Tensor, signal?: AbortSignal): Promise<Tensor> {
  if (!vae.encoder) throw new VaeError(`VAE '${vae.name}' has no encoder`);
  const px = imageToVaeInput(cropToMultiple(image, vae.downscale));
  const latent = await encodeMean(await vae.encoder.get(), px, signal);
  expectVaeScale(vae, latent.shape, px.shape, 'encoder');
  return latent;
}

export async function vaeDecode(vae: VaeModel, latent: Tensor, signal?: AbortSignal): Promise<Tensor> {
  if (!vae.decoder) throw new VaeError(`VAE '${vae.name}' has no decoder`);
  const px = await decodeLatent(await vae.decoder.get(), latent, signal);
  expectVaeScale(vae, latent.shape, px.shape, 'decoder');
  return vaeOutputToImage(px);
}
