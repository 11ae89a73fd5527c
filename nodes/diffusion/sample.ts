/**
 * One sampling run as ComfyUI's CFGGuider.sample + KSAMPLER.sample do it: scale the latent into U-Net
 * space, add the initial noise at sigma_0 (max_denoise rule), wrap the denoiser for inpainting, run the
 * sampler with per-step progress and previews, scale back.
 */
import type { NodeContext } from '../../engine/index.js';
import { resizePlanes } from '../../imaging/resample.js';
import { JOB_LANE } from '../../runtime/batching/index.js';
import { Tensor } from '../../runtime/tensor.js';
import type { Seed } from '../../sampling/noise.js';
import type { Latent } from '../../sockets/index.js';
import { makeDenoiser, type InpaintState } from './denoiser.js';
import type { Conditioning, DiffusionModel } from '../../sockets/index.js';
import type { SamplerChoice } from './types.js';

export interface SampleRequest {
  readonly model: DiffusionModel;
  readonly positive: Conditioning;
  readonly negative?: Conditioning;
  readonly cfg: number;
  readonly latent: Latent;
  readonly sigmas: Float64Array;
  readonly sampler: SamplerChoice;
  /** Initial noise of the latent's shape (raw, unscaled); undefined = no noise added. */
  readonly noise?: Tensor;
  /** ComfyUI's extra_args['seed']: seeds the ancestral (seed + 1) and SDE (Brownian tree) noise streams. */
  readonly seed: Seed;
  readonly eta?: number;
  readonly sNoise?: number;
}

export interface SampleResult {
  /** Raw VAE-space latent. */
  readonly samples: Tensor;
  /** The last denoised estimate (raw VAE space), SamplerCustom's denoised_output. */
  readonly denoised: Tensor;
}

/** The subset of NodeContext sampling uses. */
export type SampleContext = Pick<NodeContext, 'signal' | 'progress'> & Partial<Pick<NodeContext, 'wantsPreviews' | 'job'>>;

function scaled(t: Tensor, k: number): Tensor {
  const out = new Float32Array(t.size);
  for (let i = 0; i < out.length; i++) out[i] = t.data[i] * k;
  return new Tensor('float32', out, t.shape);
}

/** ComfyUI prepare_mask: a mask of any batch resized bilinearly to the latent and repeated over B and C. */
export function latentMask(mask: Tensor, shape: readonly number[]): Float32Array {
  const [B, C, H, W] = shape;
  const h = mask.shape[mask.shape.length - 2];
  const w = mask.shape[mask.shape.length - 1];
  const planes = mask.size / (h * w);
  const resized = resizePlanes(new Tensor('float32', mask.data, [planes, h, w]), H, W, 'bilinear');
  const out = new Float32Array(B * C * H * W);
  for (let b = 0; b < B; b++) {
    const src = resized.data.subarray((b % planes) * H * W, ((b % planes) + 1) * H * W);
    for (let c = 0; c < C; c++) out.set(src, (b * C + c) * H * W);
  }
  return out;
}

/** ComfyUI max_denoise: the schedule starts at (or above) the model's sigma_max. */
export function isMaxDenoise(model: DiffusionModel, sigma0: number): boolean {
  const max = model.sampling.sigmaMax;
  return Math.abs(sigma0 - max) <= 1e-5 * Math.max(Math.abs(sigma0), Math.abs(max)) || sigma0 > max;
}

export async function sampleLatent(ctx: SampleContext, r: SampleRequest): Promise<SampleResult> {
  const { model, sigmas } = r;
  const raw = r.latent.samples;
  if (sigmas.length === 0) return { samples: raw, denoised: raw };
  const scale = model.latentScale;
  const z = scaled(raw, scale);
  const s0 = sigmas[0];
  const k = isMaxDenoise(model, s0) ? Math.sqrt(1 + s0 * s0) : s0;
  const x0 = new Float32Array(z.size);
  const noise = r.noise?.data;
  if (noise && noise.length !== z.size) throw new RangeError(`noise of ${noise.length} values for a latent of ${z.size}`);
  for (let i = 0; i < x0.length; i++) x0[i] = z.data[i] + (noise ? noise[i] * k : 0);

  const inpaint: InpaintState | undefined = r.latent.noise_mask
    ? { mask: latentMask(r.latent.noise_mask, z.shape), latent: z.data, noise: noise ?? new Float32Array(z.size) }
    : undefined;
  const denoise = makeDenoiser({
    model, positive: r.positive, negative: r.negative, cfg: r.cfg, signal: ctx.signal, inpaint, lane: ctx.job?.tryGet(JOB_LANE),
    exposeUncond: r.sampler.fn.usesUncond === true,
  });
  let lastDenoised: Tensor | undefined;
  // Preview JPEGs encode (in sharp's thread pool) while the next U-Net call runs; events stay in step order.
  let previews: Promise<void> = Promise.resolve();
  let out: Tensor;
  try {
    out = await r.sampler.fn(denoise, new Tensor('float32', x0, z.shape), sigmas, {
      seed: r.seed,
      signal: ctx.signal,
      eta: r.eta,
      sNoise: r.sNoise,
      percentToSigma: (p) => model.sampling.percentToSigma(p),
      onStep: (s) => {
        lastDenoised = s.denoised;
        const encoded = ctx.wantsPreviews === false ? undefined : model.previewer.preview(s.denoised);
        previews = previews.then(async () => ctx.progress(s.i + 1, s.total, await encoded));
      },
    });
  } finally {
    // The conditioning kept in the U-Net's worker goes when the run ends, also on error or interrupt. Not
    // awaited: the drop queues behind the calls other jobs have in that worker.
    denoise.release().catch(() => undefined);
  }
  await previews;
  ctx.signal.throwIfAborted();
  return { samples: scaled(out, 1 / scale), denoised: lastDenoised ? scaled(lastDenoised, 1 / scale) : scaled(out, 1 / scale) };
}
