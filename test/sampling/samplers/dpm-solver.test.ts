import { describe, expect, it } from 'vitest';
import { Tensor } from '../../../runtime/tensor.js';
import { TorchGenerator } from '../../../sampling/noise.js';
import { SAMPLERS, SamplerStepError, type Denoiser } from '../../../sampling/samplers/index.js';
import { karrasSigmas } from '../../../sampling/schedulers/index.js';
import { gaussianDenoiser } from './gaussian.js';

function counting(calls: { n: number }): Denoiser {
  const g = gaussianDenoiser(0.3, 1);
  return async (x, s) => (calls.n++, g(x, s));
}

describe('dpm_fast (k-diffusion DPMSolver.dpm_solver_fast)', () => {
  it('spends exactly len(sigmas) - 1 model calls over orders 3, ..., 3, then 2, 1 or the remainder', async () => {
    for (const steps of [1, 2, 3, 4, 5, 9, 10, 20]) {
      const calls = { n: 0 };
      const sigmas = karrasSigmas(steps, 0.0292, 14.6);
      const seen: number[] = [];
      await SAMPLERS.dpm_fast(counting(calls), new TorchGenerator(1).randn([1, 1, 2, 2]), sigmas, { onStep: (s) => void seen.push(s.total) });
      expect(calls.n).toBe(steps);
      const m = Math.floor(steps / 3) + 1;
      expect(seen.length).toBe(steps % 3 === 0 ? m : m);
      expect(new Set(seen)).toEqual(new Set([seen.length]));
    }
  });

  it('steps in equal t = -ln sigma from the first sigma to the last positive one, whatever the sigmas between', async () => {
    const x = new TorchGenerator(2).randn([1, 1, 2, 2]);
    const a = await SAMPLERS.dpm_fast(gaussianDenoiser(0.3, 1), x, Float64Array.from([10, 9, 8, 7, 6, 0.1, 0]), {});
    const b = await SAMPLERS.dpm_fast(gaussianDenoiser(0.3, 1), x, Float64Array.from([10, 1, 0.5, 0.4, 0.3, 0.1, 0]), {});
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    const sigmasSeen: number[] = [];
    await SAMPLERS.dpm_fast(gaussianDenoiser(0.3, 1), x, Float64Array.from([10, 9, 8, 7, 6, 0.1, 0]), { onStep: (s) => void sigmasSeen.push(s.sigma, s.sigmaNext) });
    expect(sigmasSeen[0]).toBeCloseTo(10, 10);
    expect(sigmasSeen[sigmasSeen.length - 1]).toBeCloseTo(0.1, 10);
  });

  it('ends at the last positive sigma, as ComfyUI: x keeps that much noise of the Gaussian target', async () => {
    // Exact probability-flow state of N(0.3, 1) at sigma 0.5 from sigma 10: 0.3 + (x - 0.3) sqrt(1.25 / 101).
    const x = new TorchGenerator(3).randn([1, 4, 8, 8]);
    const sigmas = Float64Array.from([10, ...new Array<number>(29).fill(1), 0.5, 0]);
    const r = await SAMPLERS.dpm_fast(gaussianDenoiser(0.3, 1), x, sigmas, {});
    const k = Math.sqrt(1.25 / 101);
    for (let i = 0; i < x.size; i++) expect(Math.abs(r.data[i] - (0.3 + (x.data[i] - 0.3) * k))).toBeLessThan(5e-3);
  });
});

describe('dpm_adaptive (k-diffusion DPMSolver.dpm_solver_adaptive, order 3)', () => {
  it('ignores the step count: the same schedule ends give the same result and calls, 3 per attempted step', async () => {
    const x = new TorchGenerator(4).randn([1, 4, 4, 4]);
    const c5 = { n: 0 };
    const c40 = { n: 0 };
    const attempts: number[] = [];
    const a = await SAMPLERS.dpm_adaptive(counting(c5), x, karrasSigmas(5, 0.0292, 14.6), { onStep: (s) => void attempts.push(s.i) });
    const b = await SAMPLERS.dpm_adaptive(counting(c40), x, karrasSigmas(40, 0.0292, 14.6), {});
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    expect(c5.n).toBe(c40.n);
    expect(c5.n).toBe(3 * attempts.length);
    expect(attempts).toEqual(attempts.map((_, i) => i));
  });

  it('refuses to continue on a non-finite error instead of looping', async () => {
    const nan: Denoiser = async (x) => new Tensor('float32', new Float32Array(x.size).fill(NaN), x.shape);
    await expect(SAMPLERS.dpm_adaptive(nan, Tensor.zeros([1, 1, 2, 2]), karrasSigmas(5, 0.0292, 14.6), {})).rejects.toBeInstanceOf(SamplerStepError);
  });

  it('refuses a schedule whose first or last positive sigma is not positive (ComfyUI ValueError)', async () => {
    for (const name of ['dpm_fast', 'dpm_adaptive'] as const) {
      await expect(SAMPLERS[name](gaussianDenoiser(0, 1), Tensor.zeros([1, 1, 2, 2]), Float64Array.from([0, 0, 0]), {})).rejects.toBeInstanceOf(RangeError);
    }
  });
});

describe('one-step schedules [sigma, 0]', () => {
  it('dpm_fast and dpm_adaptive return D(x, sigma), where ComfyUI returns the input noise (empty t range)', async () => {
    const x = new TorchGenerator(5).randn([1, 1, 2, 2]);
    const d = await gaussianDenoiser(0.3, 1)(x, 3);
    for (const name of ['dpm_fast', 'dpm_adaptive'] as const) {
      const out = await SAMPLERS[name](gaussianDenoiser(0.3, 1), x, Float64Array.from([3, 0]), {});
      expect(Array.from(out.data)).toEqual(Array.from(d.data));
    }
  });
});
