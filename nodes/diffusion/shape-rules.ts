/**
 * Shape rules shared by the diffusion nodes' `run` and `infer`. Inference does not load the VAE, so
 * it assumes the SD 1.x/2.x autoencoder (Rombach et al. 2022, LDM: f = 8, 4 latent channels), which
 * every checkpoint layout latentflow loads uses.
 */
import type { Shape } from '../../engine/index.js';

export const SD_VAE_SCALE = 8;
export const SD_LATENT_CHANNELS = 4;

/** LATENT [B,4,H/8,W/8] of IMAGE [B,H,W,C] (the VAE crops to a multiple of 8 first). */
export function latentOfImage(image: Shape): Shape {
  const [b, h, w] = image as [number, number, number];
  return [b, SD_LATENT_CHANNELS, Math.floor(h / SD_VAE_SCALE), Math.floor(w / SD_VAE_SCALE)];
}

/** IMAGE [B,8h,8w,3] of LATENT samples [B,C,h,w]. */
export function imageOfLatent(latent: Shape): Shape {
  const [b, , h, w] = latent as [number, number, number, number];
  return [b, h * SD_VAE_SCALE, w * SD_VAE_SCALE, 3];
}

/**
 * LatentUpscale's target in latent cells (ComfyUI nodes.py): a 0 side follows the aspect ratio, sides
 * are at least 64 pixels; undefined when both are 0 (unchanged).
 */
export function latentUpscaleCells(lh: number, lw: number, width: number, height: number): [h: number, w: number] | undefined {
  if (width === 0 && height === 0) return undefined;
  if (width === 0) {
    height = Math.max(64, height);
    width = Math.max(64, Math.round((lw * height) / lh));
  } else if (height === 0) {
    width = Math.max(64, width);
    height = Math.max(64, Math.round((lh * width) / lw));
  } else {
    width = Math.max(64, width);
    height = Math.max(64, height);
  }
  return [Math.floor(height / 8), Math.floor(width / 8)];
}

/** LatentUpscaleBy's target in latent cells. */
export function latentScaleByCells(lh: number, lw: number, scale: number): [h: number, w: number] {
  return [Math.round(lh * scale), Math.round(lw * scale)];
}
