/**
 * DPM-Solver (Lu et al. 2022, arXiv 2206.00927) as k-diffusion's DPMSolver class runs it (ComfyUI sample_dpm_fast,
 * sample_dpm_adaptive, with comfy/samplers.py's ksampler wrappers): in t = -ln sigma from the schedule's first sigma to
 * its last positive one, ignoring the schedule's other sigmas. dpm_fast spreads len(sigmas) - 1 model calls over
 * equal t steps of orders 3, ..., 3, 2, 1; dpm_adaptive picks its own steps (DPM-Solver-23 with a PID step-size
 * controller, rtol 0.05, atol 0.0078, h_init 0.05). Both end at the last positive sigma, not at 0, as in ComfyUI, and
 * with eta 0 (ComfyUI's default) draw no noise.
 */
import { SamplerContext } from './common.js';
import { SamplerStepError, type Sampler } from './types.js';

const sigmaOf = (t: number): number => Math.exp(-t);

/** The model's noise prediction eps = (x - D) / sigma at time t, from k-diffusion DPMSolver.eps. */
async function eps(c: SamplerContext, x: Float32Array, t: number): Promise<{ eps: Float32Array; denoised: Float32Array }> {
  const s = sigmaOf(t);
  const denoised = await c.denoise(x, s);
  const e = new Float32Array(x.length);
  for (let k = 0; k < x.length; k++) e[k] = (x[k] - denoised[k]) / s;
  return { eps: e, denoised };
}

function step1(x: Float32Array, e: Float32Array, t: number, tNext: number): Float32Array {
  const h = tNext - t;
  const a = sigmaOf(tNext) * Math.expm1(h);
  return x.map((v, k) => v - a * e[k]);
}

async function step2(c: SamplerContext, x: Float32Array, e: Float32Array, t: number, tNext: number): Promise<Float32Array> {
  const r1 = 1 / 2;
  const h = tNext - t;
  const s1 = t + r1 * h;
  const u1 = x.map((v, k) => v - sigmaOf(s1) * Math.expm1(r1 * h) * e[k]);
  const e1 = (await eps(c, u1, s1)).eps;
  const a = sigmaOf(tNext) * Math.expm1(h);
  const b = (sigmaOf(tNext) / (2 * r1)) * Math.expm1(h);
  return x.map((v, k) => v - a * e[k] - b * (e1[k] - e[k]));
}

/**
 * DPMSolver.dpm_solver_3_step; also returns the 2nd-order solution with r1 = 1/3 that dpm_solver_adaptive compares it
 * with, which in k-diffusion reuses the same cached r1 evaluation (3 model calls per adaptive step, not 4).
 */
async function step3(c: SamplerContext, x: Float32Array, e: Float32Array, t: number, tNext: number): Promise<{ high: Float32Array; low: Float32Array }> {
  const r1 = 1 / 3;
  const r2 = 2 / 3;
  const h = tNext - t;
  const s1 = t + r1 * h;
  const s2 = t + r2 * h;
  const u1 = x.map((v, k) => v - sigmaOf(s1) * Math.expm1(r1 * h) * e[k]);
  const e1 = (await eps(c, u1, s1)).eps;
  const a = sigmaOf(tNext) * Math.expm1(h);
  const bLow = (sigmaOf(tNext) / (2 * r1)) * Math.expm1(h);
  const low = x.map((v, k) => v - a * e[k] - bLow * (e1[k] - e[k]));
  const a2 = sigmaOf(s2) * Math.expm1(r2 * h);
  const b2 = sigmaOf(s2) * (r2 / r1) * (Math.expm1(r2 * h) / (r2 * h) - 1);
  const u2 = x.map((v, k) => v - a2 * e[k] - b2 * (e1[k] - e[k]));
  const e2 = (await eps(c, u2, s2)).eps;
  const b = (sigmaOf(tNext) / r2) * (Math.expm1(h) / h - 1);
  const high = x.map((v, k) => v - a * e[k] - b * (e2[k] - e[k]));
  return { high, low };
}

/**
 * ComfyUI's ksampler wrapper: sigma_max = sigmas[0], sigma_min = the last sigma, or the one before it when that is 0.
 * A one-step schedule [sigma, 0] makes the range empty, where ComfyUI returns the input noise untouched; latentflow
 * takes the denoised estimate instead (`oneStep`).
 */
function range(sigmas: Float64Array): { tStart: number; tEnd: number } {
  const last = sigmas[sigmas.length - 1];
  const sigmaMin = last === 0 ? sigmas[sigmas.length - 2] : last;
  const sigmaMax = sigmas[0];
  if (!(sigmaMin > 0) || !(sigmaMax > 0)) throw new RangeError('dpm_fast / dpm_adaptive need positive first and last sigmas');
  return { tStart: -Math.log(sigmaMax), tEnd: -Math.log(sigmaMin) };
}

/** A one-step schedule to 0 (empty t range): x = D(x, sigma_0), reported as one step. */
async function oneStep(c: SamplerContext, x: Float32Array, sigmas: Float64Array): Promise<Float32Array | undefined> {
  if (!(sigmas.length === 2 && sigmas[1] === 0)) return undefined;
  const denoised = await c.denoise(x, sigmas[0]);
  await c.step(0, x, denoised);
  return denoised;
}

/** DPM-Solver-Fast (k-diffusion DPMSolver.dpm_solver_fast, eta 0): len(sigmas) - 1 model calls. */
export const sampleDpmFast: Sampler = async (denoise, x0, sigmas, opts) => {
  const c = new SamplerContext(denoise, x0, sigmas, opts);
  if (sigmas.length <= 1) return x0;
  const single = await oneStep(c, x0.data, sigmas);
  if (single) return c.tensor(single);
  const nfe = c.total;
  const { tStart, tEnd } = range(sigmas);
  const m = Math.floor(nfe / 3) + 1;
  const ts = Array.from({ length: m + 1 }, (_, k) => tStart + ((tEnd - tStart) * k) / m);
  const orders = nfe % 3 === 0 ? [...new Array<number>(Math.max(0, m - 2)).fill(3), 2, 1] : [...new Array<number>(m - 1).fill(3), nfe % 3];
  let x = x0.data;
  for (let i = 0; i < orders.length; i++) {
    const t = ts[i];
    const tNext = ts[i + 1];
    const { eps: e, denoised } = await eps(c, x, t);
    await c.stepAt(i, orders.length, x, denoised, sigmaOf(t), sigmaOf(tNext));
    if (orders[i] === 1) x = step1(x, e, t, tNext);
    else if (orders[i] === 2) x = await step2(c, x, e, t, tNext);
    else x = (await step3(c, x, e, t, tNext)).high;
  }
  return c.tensor(x);
};

/**
 * k-diffusion PIDStepSizeController as ComfyUI configures it (pcoeff 0, icoeff 1, dcoeff 0, order 3, accept_safety
 * 0.81, eps 1e-8): with no proportional or derivative part only the newest error counts, so no error history is kept.
 */
class PidStepSize {
  constructor(public h: number, private readonly order: number) {}

  propose(error: number): boolean {
    const factor = 1 + Math.atan((1 / (error + 1e-8)) ** (1 / this.order) - 1);
    this.h *= factor;
    return factor >= 0.81;
  }
}

/**
 * DPM-Solver-23 with adaptive steps (k-diffusion DPMSolver.dpm_solver_adaptive, order 3, eta 0): the schedule only
 * gives the start and end; steps are accepted or shrunk by the error between the 2nd- and 3rd-order solutions.
 * Progress reports each attempted step (rejected ones too, as ComfyUI's callback does) after its first model call, with
 * total = the schedule's step count or the steps so far when more, as the count is not known ahead.
 */
export const sampleDpmAdaptive: Sampler = async (denoise, x0, sigmas, opts) => {
  const c = new SamplerContext(denoise, x0, sigmas, opts);
  if (sigmas.length <= 1) return x0;
  const single = await oneStep(c, x0.data, sigmas);
  if (single) return c.tensor(single);
  const { tStart, tEnd } = range(sigmas);
  const forward = tEnd > tStart;
  const atol = 0.0078;
  const rtol = 0.05;
  const pid = new PidStepSize(0.05 * (forward ? 1 : -1), 3);
  let s = tStart;
  let x = x0.data;
  let xPrev = x;
  let steps = 0;
  while (forward ? s < tEnd - 1e-5 : s > tEnd + 1e-5) {
    const t = forward ? Math.min(tEnd, s + pid.h) : Math.max(tEnd, s + pid.h);
    const { eps: e, denoised } = await eps(c, x, s);
    await c.stepAt(steps, Math.max(c.total, steps + 1), x, denoised, sigmaOf(s), sigmaOf(t));
    steps++;
    const { high, low } = await step3(c, x, e, s, t);
    let sum = 0;
    for (let k = 0; k < x.length; k++) {
      const delta = Math.max(atol, rtol * Math.max(Math.abs(low[k]), Math.abs(xPrev[k])));
      sum += ((low[k] - high[k]) / delta) ** 2;
    }
    const error = Math.sqrt(sum) / Math.sqrt(x.length);
    if (!Number.isFinite(error)) throw new SamplerStepError(`dpm_adaptive: the error estimate at sigma ${sigmaOf(s)} is not finite`);
    if (pid.propose(error)) {
      xPrev = low;
      x = high;
      s = t;
    }
    if (!(Math.abs(pid.h) > 1e-12)) throw new SamplerStepError(`dpm_adaptive: the step size vanished at sigma ${sigmaOf(s)}`);
  }
  return c.tensor(x);
};
