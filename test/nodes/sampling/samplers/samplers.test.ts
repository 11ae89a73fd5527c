import { describe, expect, it } from 'vitest';
import { Tensor } from '../../../../nodes/runtime/tensor.js';
import { TorchGenerator } from '../../../../nodes/sampling/noise.js';
import { SAMPLERS, SAMPLER_NAMES, type SamplerName } from '../../../../nodes/sampling/samplers/index.js';
import { karrasSigmas } from '../../../../nodes/sampling/schedulers/index.js';
import { exactEndpoint, gaussianDenoiser, maxAbsError, meanVar } from './gaussian.js';

const MU = 0.3;
const S = 1;

/** x_T drawn from the target's marginal at sigma0: N(mu, s^2 + sigma0^2). */
function initial(seed: number, shape: number[], sigma0: number): { x: Tensor; gen: TorchGenerator } {
  const gen = new TorchGenerator(seed);
  const n = gen.randn(shape);
  const k = Math.sqrt(S * S + sigma0 * sigma0);
  return { x: new Tensor('float32', n.data.map((v) => MU + v * k), shape), gen };
}

async function run(name: SamplerName, steps: number, opts: { seed?: number; shape?: number[]; sigmaMin?: number; eta?: number } = {}): Promise<{ x: Tensor; out: Tensor; sigmas: Float64Array }> {
  const sigmas = karrasSigmas(steps, opts.sigmaMin ?? 0.0292, 14.6);
  const { x, gen } = initial(opts.seed ?? 1, opts.shape ?? [1, 4, 4, 4], sigmas[0]);
  const out = await SAMPLERS[name](gaussianDenoiser(MU, S), x, sigmas, { noise: (sh) => gen.randn(sh), eta: opts.eta });
  return { x, out, sigmas };
}

describe('sampler contract', () => {
  it('lists the samplers in ComfyUI order', () => {
    expect(SAMPLER_NAMES).toEqual([
      'euler', 'euler_ancestral', 'heun', 'dpm_2', 'dpm_2_ancestral', 'lms', 'dpmpp_sde', 'dpmpp_2m', 'dpmpp_2m_sde',
      'lcm', 'ddim', 'uni_pc', 'uni_pc_bh2',
    ]);
  });

  for (const name of SAMPLER_NAMES) {
    describe(name, () => {
      it('keeps the shape and leaves the input untouched', async () => {
        const sigmas = karrasSigmas(6, 0.0292, 14.6);
        const { x, gen } = initial(3, [2, 4, 3, 5], sigmas[0]);
        const before = x.data.slice();
        const out = await SAMPLERS[name](gaussianDenoiser(MU, S), x, sigmas, { noise: (sh) => gen.randn(sh) });
        expect(out.shape).toEqual([2, 4, 3, 5]);
        expect(out.data.every(Number.isFinite)).toBe(true);
        expect(Array.from(x.data)).toEqual(Array.from(before));
      });

      it('is deterministic under a seeded noise source', async () => {
        const a = await run(name, 8, { seed: 5 });
        const b = await run(name, 8, { seed: 5 });
        expect(Array.from(a.out.data)).toEqual(Array.from(b.out.data));
      });

      it('reports every step once, in order, with the step sigmas', async () => {
        const sigmas = karrasSigmas(7, 0.0292, 14.6);
        const { x, gen } = initial(4, [1, 1, 2, 2], sigmas[0]);
        const seen: number[] = [];
        await SAMPLERS[name](gaussianDenoiser(MU, S), x, sigmas, {
          noise: (sh) => gen.randn(sh),
          onStep: (s) => {
            seen.push(s.i);
            expect(s.total).toBe(7);
            expect(s.sigma).toBe(sigmas[s.i]);
            expect(s.sigmaNext).toBe(sigmas[s.i + 1]);
            expect(s.denoised.shape).toEqual([1, 1, 2, 2]);
            expect(s.x.shape).toEqual([1, 1, 2, 2]);
          },
        });
        expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6]);
      });

      it('honours an abort signal before the next model call', async () => {
        const sigmas = karrasSigmas(6, 0.0292, 14.6);
        const { x, gen } = initial(4, [1, 1, 2, 2], sigmas[0]);
        const ctl = new AbortController();
        const reason = new Error('stop');
        const calls = { count: 0 };
        const denoise = gaussianDenoiser(MU, S, calls);
        const p = SAMPLERS[name](denoise, x, sigmas, {
          noise: (sh) => gen.randn(sh),
          signal: ctl.signal,
          onStep: (s) => {
            if (s.i === 1) ctl.abort(reason);
          },
        });
        await expect(p).rejects.toBe(reason);
        const after = calls.count;
        expect(after).toBeLessThan(6);
        const pre = new AbortController();
        pre.abort(reason);
        await expect(SAMPLERS[name](denoise, x, sigmas, { noise: (sh) => gen.randn(sh), signal: pre.signal })).rejects.toBe(reason);
        expect(calls.count).toBe(after);
      });

      it('returns the input for an empty schedule', async () => {
        const { x, gen } = initial(4, [1, 1, 2, 2], 1);
        const out = await SAMPLERS[name](gaussianDenoiser(MU, S), x, new Float64Array([1]), { noise: (sh) => gen.randn(sh) });
        expect(Array.from(out.data)).toEqual(Array.from(x.data));
      });
    });
  }
});

const DETERMINISTIC: SamplerName[] = ['euler', 'ddim', 'heun', 'dpm_2', 'lms', 'dpmpp_2m', 'uni_pc', 'uni_pc_bh2'];
const HIGHER_ORDER: SamplerName[] = ['heun', 'dpm_2', 'lms', 'dpmpp_2m', 'uni_pc', 'uni_pc_bh2'];

describe('convergence to the exact probability-flow endpoint of a Gaussian target', () => {
  async function error(name: SamplerName, steps: number): Promise<number> {
    const { x, out, sigmas } = await run(name, steps, { sigmaMin: 0.002 });
    return maxAbsError(out.data, exactEndpoint(x, MU, S, sigmas[0]));
  }

  for (const name of DETERMINISTIC) {
    it(`${name}: error falls as steps grow`, async () => {
      const e10 = await error(name, 10);
      const e20 = await error(name, 20);
      const e40 = await error(name, 40);
      expect(e20).toBeLessThan(e10);
      expect(e40).toBeLessThan(e20 * 0.6);
      expect(e40).toBeLessThan(0.2);
    });
  }

  for (const name of HIGHER_ORDER) {
    it(`${name}: beats euler at 20 and 40 steps`, async () => {
      for (const steps of [20, 40]) expect(await error(name, steps)).toBeLessThan((await error('euler', steps)) / 4);
    });
  }

  it('ancestral and SDE samplers with eta 0 are deterministic ODE solvers', async () => {
    for (const name of ['euler_ancestral', 'dpm_2_ancestral', 'dpmpp_2m_sde', 'dpmpp_sde'] as const) {
      const { x, out, sigmas } = await run(name, 40, { sigmaMin: 0.002, eta: 0 });
      expect(maxAbsError(out.data, exactEndpoint(x, MU, S, sigmas[0]))).toBeLessThan(0.2);
    }
    const a = await run('dpmpp_2m_sde', 15, { eta: 0 });
    const b = await run('dpmpp_2m', 15);
    expect(maxAbsError(a.out.data, b.out.data)).toBeLessThan(1e-5);
  });
});

describe('stochastic samplers reproduce the target distribution', () => {
  const cases: [SamplerName, number][] = [
    ['euler_ancestral', 100],
    ['dpm_2_ancestral', 30],
    ['dpmpp_sde', 100],
    ['dpmpp_2m_sde', 30],
  ];
  for (const [name, steps] of cases) {
    it(`${name} (${steps} steps): mean ${MU}, variance ${S * S}`, async () => {
      const { out } = await run(name, steps, { seed: 11, shape: [1, 4, 64, 64] });
      const { mean, variance } = meanVar(out.data);
      expect(Math.abs(mean - MU)).toBeLessThan(0.05);
      expect(Math.abs(variance - S * S)).toBeLessThan(0.1);
    });
  }

  it('lcm follows x = D + sigma_next * n: variance v -> k^2 v + sigma_next^2 with k = s^2 / (s^2 + sigma^2)', async () => {
    const { out, sigmas } = await run('lcm', 4, { seed: 12, shape: [1, 4, 64, 64] });
    let v = S * S + sigmas[0] ** 2;
    for (let i = 0; i + 1 < sigmas.length; i++) {
      const k = (S * S) / (S * S + sigmas[i] ** 2);
      v = k * k * v + sigmas[i + 1] ** 2;
    }
    const { mean, variance } = meanVar(out.data);
    expect(Math.abs(mean - MU)).toBeLessThan(0.03);
    expect(Math.abs(variance - v) / v).toBeLessThan(0.05);
  });
});
