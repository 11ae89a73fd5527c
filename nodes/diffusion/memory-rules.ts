/**
 * Working-memory rules of the diffusion nodes for admission (engine/memory-estimate.ts): what a node
 * holds while it runs beyond its outputs, from inferred shapes. Estimates for the SD 1.x/2.x family the
 * shape rules assume (shape-rules.ts); U-Net activations are left out (they depend on the model and on
 * the runtime's attention kernels), so a run that slips past them fails as a job error instead.
 */
import type { Shape } from '../../engine/index.js';
import { float32Bytes } from '../../sockets/index.js';

/**
 * Bytes per output pixel of the SD VAE's full-resolution stage: diffusers AutoencoderKL's
 * block_out_channels[0] = 128 float32 channels, with a ResnetBlock2D's input, hidden state, GroupNorm
 * temporary and output alive at once (4 maps).
 */
export const VAE_FULL_RES_BYTES_PER_PIXEL = 128 * 4 * 4;

/**
 * VAE decode or encode of a whole batch in one call: the full-resolution activations per pixel, plus the
 * NCHW float32 copy of the pixels the session takes or returns (3 channels).
 */
export function vaeWorkBytes(image: Shape | undefined): number {
  if (!image) return 0;
  const [b, h, w] = image as [number, number, number];
  return b * h * w * (VAE_FULL_RES_BYTES_PER_PIXEL + 3 * 4);
}

/**
 * A sampler's latents besides its output: the noisy x, the noise, the denoised and derivative
 * estimates, a multistep sampler's history, and the CFG batch (cond + uncond rows in, two predictions
 * out): about eight copies of the latent (k-diffusion sampling.py, ComfyUI samplers.py).
 */
export function samplerWorkBytes(latent: Shape | undefined): number {
  return latent ? 8 * float32Bytes(latent) : 0;
}

/**
 * Tiled VAE decode (vae-nodes.ts decodeTiled): one tile of at most `tileSize`^2 output pixels per
 * batch row through the network at a time, plus three float32 NCHW frames of the whole output (the
 * running mean of the three tilings, and one pass's sum and weights).
 */
export function vaeTiledDecodeWorkBytes(image: Shape | undefined, tileSize: number | undefined): number {
  if (!image || tileSize === undefined) return 0;
  const [b, h, w] = image as [number, number, number];
  const tile = Math.min(tileSize * tileSize, h * w);
  return b * tile * (VAE_FULL_RES_BYTES_PER_PIXEL + 3 * 4) + 3 * b * h * w * 3 * 4;
}

/** Tiled VAE encode: one tile of at most `tileSize`^2 input pixels per batch row through the encoder at a time. */
export function vaeTiledEncodeWorkBytes(image: Shape | undefined, tileSize: number | undefined): number {
  if (!image || tileSize === undefined) return 0;
  const [b, h, w] = image as [number, number, number];
  return b * Math.min(tileSize * tileSize, h * w) * (VAE_FULL_RES_BYTES_PER_PIXEL + 3 * 4);
}
