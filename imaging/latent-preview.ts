/**
 * Small JPEG previews of the denoised latent during sampling, via a linear latent -> RGB map like
 * ComfyUI's Latent2RGBPreviewer (latent_formats.py). The map is fitted once per model by encoding a few
 * flat colours with the checkpoint's own VAE encoder, so any SD-layout VAE gets a faithful preview;
 * without an encoder, ComfyUI's SD 1.x factors are used.
 */
import type { PreviewImage } from '../engine/index.js';
import { encodeJpeg } from './codec.js';
import { Tensor } from '../runtime/tensor.js';
import type { SessionHandle } from '../runtime/session-handle.js';

/** rgb (in -1..1) = factors^T latent + bias, for U-Net-space latents. */
export interface RgbProjection {
  /** [channels][3] */
  readonly factors: readonly (readonly number[])[];
  readonly bias: readonly number[];
}

/** ComfyUI latent_formats.SD15.latent_rgb_factors. */
export const SD15_RGB_PROJECTION: RgbProjection = {
  factors: [
    [0.3512, 0.2297, 0.3227],
    [0.325, 0.4974, 0.235],
    [-0.2829, 0.1762, 0.2721],
    [-0.212, -0.2616, -0.7177],
  ],
  bias: [0, 0, 0],
};

const PROBE_COLOURS: readonly (readonly [number, number, number])[] = [
  [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [0, 1, 1], [1, 0, 1], [1, 1, 1], [0, 0, 0], [0.5, 0.5, 0.5], [0.9, 0.5, 0.1],
];

/** Solves the (k x k) system A z = y by Gaussian elimination with partial pivoting. */
function solve(a: number[][], y: number[]): number[] {
  const k = y.length;
  const m = a.map((row, i) => [...row, y[i]]);
  for (let c = 0; c < k; c++) {
    let p = c;
    for (let r = c + 1; r < k; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    [m[c], m[p]] = [m[p], m[c]];
    for (let r = 0; r < k; r++) {
      if (r === c || m[c][c] === 0) continue;
      const f = m[r][c] / m[c][c];
      for (let j = c; j <= k; j++) m[r][j] -= f * m[c][j];
    }
  }
  return m.map((row, i) => (row[i] === 0 ? 0 : row[k] / row[i]));
}

/** Ridge least squares of rgb on [latent, 1] over probe samples. */
export function fitProjection(latents: readonly (readonly number[])[], rgb: readonly (readonly number[])[]): RgbProjection {
  const C = latents[0].length;
  const k = C + 1;
  const xtx = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const xty = Array.from({ length: 3 }, () => new Array<number>(k).fill(0));
  latents.forEach((l, s) => {
    const v = [...l, 1];
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) xtx[i][j] += v[i] * v[j];
      for (let o = 0; o < 3; o++) xty[o][i] += v[i] * rgb[s][o];
    }
  });
  for (let i = 0; i < C; i++) xtx[i][i] += 1e-6; // NOTE: a latent channel the probes never move (toyworld's channel 3) stays at 0
  const coef = xty.map((y) => solve(xtx.map((r) => [...r]), y));
  return {
    factors: Array.from({ length: C }, (_, c) => [coef[0][c], coef[1][c], coef[2][c]]),
    bias: [coef[0][C], coef[1][C], coef[2][C]],
  };
}

/** Encodes flat colour images with the VAE and fits the projection on the mean latent of each. */
export async function probeProjection(encoder: SessionHandle, latentScale: number, encodeMean: (s: Awaited<ReturnType<SessionHandle['get']>>, pixels: Tensor) => Promise<Tensor>): Promise<RgbProjection> {
  const size = 64;
  const n = PROBE_COLOURS.length;
  const px = new Float32Array(n * 3 * size * size);
  PROBE_COLOURS.forEach((col, b) => {
    for (let c = 0; c < 3; c++) px.fill(col[c] * 2 - 1, (b * 3 + c) * size * size, (b * 3 + c + 1) * size * size);
  });
  const lat = await encodeMean(await encoder.get(), new Tensor('float32', px, [n, 3, size, size]));
  const [, C, h, w] = lat.shape;
  const means = PROBE_COLOURS.map((_, b) =>
    Array.from({ length: C }, (_, c) => {
      let s = 0;
      const o = (b * C + c) * h * w;
      for (let i = 0; i < h * w; i++) s += lat.data[o + i];
      return (s / (h * w)) * latentScale;
    }),
  );
  return fitProjection(means, PROBE_COLOURS.map((c) => c.map((v) => v * 2 - 1)));
}

export const PREVIEW_MAX_SIDE = 256;

/** Makes preview JPEGs of row 0 of a U-Net-space latent. */
export class LatentPreviewer {
  private projection: Promise<RgbProjection> | undefined;

  constructor(private readonly fit: () => Promise<RgbProjection>) {}

  static fixed(p: RgbProjection): LatentPreviewer {
    return new LatentPreviewer(() => Promise.resolve(p));
  }

  getProjection(): Promise<RgbProjection> {
    this.projection ??= this.fit().catch(() => SD15_RGB_PROJECTION);
    return this.projection;
  }

  /** Row 0 as RGB [1,h,w,3] in 0..1, subsampled so the longest side is at most PREVIEW_MAX_SIDE. */
  async toImage(latent: Tensor): Promise<Tensor> {
    const p = await this.getProjection();
    const [, C, H, W] = latent.shape;
    const step = Math.max(1, Math.ceil(Math.max(H, W) / PREVIEW_MAX_SIDE));
    const h = Math.ceil(H / step);
    const w = Math.ceil(W / step);
    const out = new Float32Array(h * w * 3);
    const channels = Math.min(C, p.factors.length);
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        const pix = i * step * W + j * step;
        for (let o = 0; o < 3; o++) {
          let v = p.bias[o];
          for (let c = 0; c < channels; c++) v += latent.data[c * H * W + pix] * p.factors[c][o];
          out[(i * w + j) * 3 + o] = Math.min(1, Math.max(0, (v + 1) / 2));
        }
      }
    }
    return new Tensor('float32', out, [1, h, w, 3]);
  }

  async preview(latent: Tensor): Promise<PreviewImage> {
    const img = await this.toImage(latent);
    return { format: 'JPEG', data: await encodeJpeg(img, 0, 80), width: img.shape[2], height: img.shape[1] };
  }
}
