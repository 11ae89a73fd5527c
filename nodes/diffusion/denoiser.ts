/**
 * The U-Net denoiser adapter (ComfyUI comfy/samplers.py calc_cond_batch, get_area_and_mult, cfg_function;
 * KSamplerX0Inpaint): turns a U-Net into D(x, sigma) for the samplers. Cond and uncond rows of one
 * spatial size go to the U-Net in one call; cfg == 1 skips the uncond rows. Planning which entries run
 * where lives in denoiser-plan.ts, the float32 weighting and CFG in denoiser-cfg.ts.
 */
import type { JobLane } from '../../runtime/batching/index.js';
import { Tensor } from '../../runtime/tensor.js';
import type { Denoiser } from '../../sampling/samplers/index.js';
import type { Conditioning, DiffusionModel } from '../../sockets/index.js';
import { extraInputsFor, type ExtraInputs } from './unet-extras.js';
import { ConditioningError, activityBySigma, isPlain, makePlanner, type Group, type Planner } from './denoiser-plan.js';
import { accumulate, combineCfg, cropRegions, makeAccumulator, plainCfg, plainCond, plainSample } from './denoiser-cfg.js';
import { applyControlToUncond, makeControlRunner, type ControlRunner } from './control-residuals.js';

export { ConditioningError, areaWeights, stackEmbeds } from './denoiser-plan.js';
export { guidanceEmbedding } from './unet-extras.js';

/** Inpainting state (sampling.md): regenerate where mask = 1, keep `latent` elsewhere. */
export interface InpaintState {
  /** [B,C,H,W], already resized to the latent. */
  readonly mask: Float32Array;
  /** The input latent in U-Net space. */
  readonly latent: Float32Array;
  /** The initial noise (unscaled). */
  readonly noise: Float32Array;
}

export interface DenoiserOptions {
  readonly model: DiffusionModel;
  readonly positive: Conditioning;
  /** Omitted: no unconditional pass (BasicGuider). */
  readonly negative?: Conditioning;
  readonly cfg: number;
  readonly signal?: AbortSignal;
  readonly inpaint?: InpaintState;
  /** The job's scheduler lane (from `ctx.job`): U-Net calls of concurrent jobs interleave and batch by it. */
  readonly lane?: JobLane;
  /**
   * Offer `withUncond` for the CFG++ samplers and run the unconditional pass even at CFG 1 (ComfyUI's
   * set_model_options_post_cfg_function with disable_cfg1_optimization).
   */
  readonly exposeUncond?: boolean;
}

/** D(x, sigma) for the samplers, plus `release` for what the run kept in the U-Net's worker. */
export type ReleasableDenoiser = Denoiser & {
  /** Frees the conditioning kept in the U-Net's worker; call when the sampling run ends, however it ends. */
  release(): Promise<void>;
};

/** One U-Net call for a group's rows at one sigma (and its timestep); returns the raw model output. */
type Submit = (group: Group, sample: Float32Array, shape: readonly number[], timestep: number, sigma: number) => Promise<Float32Array>;

function makeSubmit(model: DiffusionModel, extras: () => Promise<ExtraInputs>, signal: AbortSignal | undefined, lane: JobLane | undefined, control: ControlRunner | undefined): Submit {
  return async (group, sample, shape, timestep, sigma) => {
    const rows = shape[0];
    const request = {
      sample: new Tensor('float32', sample, shape),
      timesteps: new Float64Array(rows).fill(timestep),
      encoderHiddenStates: await group.cond,
      extra: (await extras())(group, rows),
      signal,
      lane,
    };
    // Steps outside every ControlNet's range run the plain U-Net.
    await control?.ready();
    const links = control?.active(group.control, sigma) ?? [];
    const out = links.length > 0
      ? await control!.submit(links, { request, embeds: group.embeds, entries: group.jobs.length })
      : await model.unet.submit(request);
    return out.data;
  };
}

/** What every evaluation of one sampling run shares. */
interface Run {
  readonly model: DiffusionModel;
  readonly cfg: number;
  readonly useUncond: boolean;
  /** The single-group fast path applies (isPlain). */
  readonly plain: boolean;
  readonly planner: Planner;
  readonly submit: Submit;
}

/**
 * ComfyUI's calc_cond_batch + cfg_function for one full-latent cond (and uncond) entry, in the same float32 steps.
 * `uncondOut` receives the unconditional estimate (the guided one when there is no uncond pass).
 */
async function evaluatePlain(run: Run, x: Tensor, sigma: number, group: Group, uncondOut?: Float32Array): Promise<Float32Array> {
  const { sampling, timestepMode } = run.model;
  const n = x.size;
  const [B, C, H, W] = x.shape;
  const jobs = group.jobs.length;
  const xs = x.data;
  const sample = plainSample(xs, sampling.cIn(sigma), jobs);
  const out = await run.submit(group, sample, [jobs * B, C, H, W], sampling.sigmaToTimestep(sigma, timestepMode), sigma);
  const dc = sampling.denoisedFromOutput(sigma, out.subarray(0, n), xs);
  if (jobs === 1) {
    const d = plainCond(dc, group.jobs[0].weights[0]);
    uncondOut?.set(d);
    return d;
  }
  // The request is answered, so its sample buffer is free to hold the uncond estimate.
  const du = sampling.denoisedFromOutput(sigma, out.subarray(n, 2 * n), xs, sample.subarray(0, n));
  return plainCfg(dc, group.jobs[0].weights[0], du, group.jobs[1].weights[0], run.cfg, uncondOut);
}

/** The general path: one U-Net call per region size, weighted means per cell, then CFG. */
async function evaluate(run: Run, x: Tensor, sigma: number, uncondOut?: Float32Array): Promise<Float32Array> {
  const [B, C, H, W] = x.shape;
  const groups = run.planner.groupsFor(B, H, W, sigma);
  if (run.plain && groups.length === 1) return evaluatePlain(run, x, sigma, groups[0], uncondOut);
  const { sampling, timestepMode } = run.model;
  const timestep = sampling.sigmaToTimestep(sigma, timestepMode);
  const cIn = sampling.cIn(sigma);
  const acc = makeAccumulator(B, C, H, W, run.useUncond);
  await Promise.all(
    groups.map(async (g) => {
      const crops = cropRegions(x, g.jobs, cIn);
      const out = await run.submit(g, crops.sample, crops.shape, timestep, sigma);
      accumulate(acc, g.jobs, sampling.denoisedFromOutput(sigma, out, crops.raw), x.shape);
    }),
  );
  const d = combineCfg(acc, x.shape, run.cfg, run.useUncond ? uncondOut : undefined);
  if (!run.useUncond) uncondOut?.set(d);
  return d;
}

/**
 * KSamplerX0Inpaint: outside the mask the U-Net sees the input latent noised to sigma, and the result keeps that
 * latent. The unconditional estimate (`uncondOut`) is blended the same way, where ComfyUI hands CFG++ samplers the raw
 * one: outside the mask both estimates are then the input latent, which CFG++'s step keeps exactly.
 */
async function evaluateInpaint(run: Run, x: Tensor, sigma: number, { mask, latent, noise }: InpaintState, uncondOut?: Float32Array): Promise<Tensor> {
  const xi = new Float32Array(x.size);
  for (let i = 0; i < xi.length; i++) xi[i] = x.data[i] * mask[i] + (latent[i] + noise[i] * sigma) * (1 - mask[i]);
  const d = await evaluate(run, new Tensor('float32', xi, x.shape), sigma, uncondOut);
  for (let i = 0; i < d.length; i++) d[i] = d[i] * mask[i] + latent[i] * (1 - mask[i]);
  if (uncondOut) for (let i = 0; i < d.length; i++) uncondOut[i] = uncondOut[i] * mask[i] + latent[i] * (1 - mask[i]);
  return new Tensor('float32', d, x.shape);
}

/** Builds D(x, sigma) for a model, its conditionings and CFG scale. */
export function makeDenoiser(opts: DenoiserOptions): ReleasableDenoiser {
  const { model, positive, cfg, inpaint } = opts;
  const negative = applyControlToUncond(positive, opts.negative ?? []);
  const useUncond = opts.negative !== undefined && (opts.exposeUncond === true || Math.abs(cfg - 1) > 1e-9);
  if (positive.length === 0) throw new ConditioningError('the positive conditioning is empty');
  if (useUncond && negative.length === 0) throw new ConditioningError('the negative conditioning is empty');
  const uncond = useUncond ? negative : undefined;
  const activeAt = activityBySigma(model.sampling, [...positive, ...negative]);
  const planner = makePlanner(model.unet, positive, uncond, activeAt);
  const control = makeControlRunner(model, [...positive, ...(uncond ?? [])]);
  // What the U-Net declares is read (and the conditioning checked against it) once per run, before the first step.
  let extras: Promise<ExtraInputs> | undefined;
  const ready = () => (extras ??= extraInputsFor(model, [...positive, ...(uncond ?? [])]));
  const run: Run = { model, cfg, useUncond, plain: isPlain(positive, uncond), planner, submit: makeSubmit(model, ready, opts.signal, opts.lane, control) };
  const denoise = async (x: Tensor, sigma: number): Promise<Tensor> => {
    await ready();
    if (inpaint) return evaluateInpaint(run, x, sigma, inpaint);
    return new Tensor('float32', await evaluate(run, x, sigma), x.shape);
  };
  const withUncond: Denoiser['withUncond'] = async (x, sigma) => {
    await ready();
    const u = new Float32Array(x.size);
    const d = inpaint ? (await evaluateInpaint(run, x, sigma, inpaint, u)).data : await evaluate(run, x, sigma, u);
    return { denoised: new Tensor('float32', d, x.shape), uncond: new Tensor('float32', u, x.shape) };
  };
  const release = async (): Promise<void> => {
    await Promise.all([planner.release(), control?.release()]);
  };
  return Object.assign(denoise, { release }, opts.exposeUncond ? { withUncond } : {});
}
