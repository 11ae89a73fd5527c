import { describe, expect, it } from 'vitest';
import { Tensor } from '../../../runtime/tensor.js';
import { TorchGenerator } from '../../../sampling/noise.js';
import { SAMPLERS, SAMPLER_NAMES, STOCHASTIC_SAMPLERS, type SamplerName } from '../../../sampling/samplers/index.js';
import { karrasSigmas } from '../../../sampling/schedulers/index.js';
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

const OWN_STEPS: ReadonlySet<SamplerName> = new Set(['dpm_fast', 'dpm_adaptive']);

describe('sampler contract', () => {
  it('lists the samplers in ComfyUI order', () => {
    // comfy/samplers.py KSAMPLER_NAMES + ["ddim", "uni_pc", "uni_pc_bh2"] (ComfyUI of July 2026).
    expect(SAMPLER_NAMES).toEqual([
      'euler', 'euler_cfg_pp', 'euler_ancestral', 'euler_ancestral_cfg_pp', 'heun', 'heunpp2', 'exp_heun_2_x0',
      'exp_heun_2_x0_sde', 'dpm_2', 'dpm_2_ancestral', 'lms', 'dpm_fast', 'dpm_adaptive', 'dpmpp_2s_ancestral',
      'dpmpp_2s_ancestral_cfg_pp', 'dpmpp_sde', 'dpmpp_sde_gpu', 'dpmpp_2m', 'dpmpp_2m_cfg_pp', 'dpmpp_2m_sde',
      'dpmpp_2m_sde_gpu', 'dpmpp_2m_sde_heun', 'dpmpp_2m_sde_heun_gpu', 'dpmpp_3m_sde', 'dpmpp_3m_sde_gpu', 'ddpm', 'lcm',
      'ipndm', 'ipndm_v', 'deis', 'res_multistep', 'res_multistep_cfg_pp', 'res_multistep_ancestral',
      'res_multistep_ancestral_cfg_pp', 'gradient_estimation', 'gradient_estimation_cfg_pp', 'er_sde', 'seeds_2',
      'seeds_3', 'sa_solver', 'sa_solver_pece', 'ddim', 'uni_pc', 'uni_pc_bh2',
    ]);
  });

  it('marks exactly the samplers that draw noise as stochastic', async () => {
    const drawing: SamplerName[] = [];
    for (const name of SAMPLER_NAMES) {
      const sigmas = karrasSigmas(5, 0.0292, 14.6);
      const { x, gen } = initial(3, [1, 1, 2, 2], sigmas[0]);
      let draws = 0;
      await SAMPLERS[name](gaussianDenoiser(MU, S), x, sigmas, { noise: (sh) => (draws++, gen.randn(sh)) });
      if (draws > 0) drawing.push(name);
    }
    expect(new Set(drawing)).toEqual(STOCHASTIC_SAMPLERS);
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

      // dpm_fast and dpm_adaptive step in their own t grid (tested in dpm-solver.test.ts).
      it.skipIf(OWN_STEPS.has(name))('reports every step once, in order, with the step sigmas', async () => {
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

const DETERMINISTIC: SamplerName[] = [
  'euler', 'ddim', 'heun', 'heunpp2', 'dpm_2', 'lms', 'dpmpp_2m', 'ipndm', 'uni_pc', 'uni_pc_bh2', 'euler_cfg_pp',
  'dpmpp_2m_cfg_pp', 'exp_heun_2_x0', 'res_multistep', 'res_multistep_cfg_pp', 'gradient_estimation',
  'gradient_estimation_cfg_pp', 'deis', 'dpm_fast',
];
const HIGHER_ORDER: SamplerName[] = ['heun', 'dpm_2', 'lms', 'dpmpp_2m', 'ipndm', 'uni_pc', 'uni_pc_bh2', 'dpmpp_2m_cfg_pp', 'exp_heun_2_x0', 'deis', 'dpm_fast'];

describe('convergence to the exact probability-flow endpoint of a Gaussian target', () => {
  async function error(name: SamplerName, steps: number, eta?: number): Promise<number> {
    const { x, out, sigmas } = await run(name, steps, { sigmaMin: 0.002, eta });
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

  // heunpp2's slope weights sigma_{i+1} / (3 sigma_0) shrink towards Euler as sigma falls, so it is first order.
  it('heunpp2: beats euler at 10, 20 and 40 steps', async () => {
    for (const steps of [10, 20, 40]) expect(await error('heunpp2', steps)).toBeLessThan(await error('euler', steps));
  });

  it('dpmpp_2s_ancestral with eta 0 (DPM-Solver++(2S)): error falls as steps grow and beats euler', async () => {
    const e = [await error('dpmpp_2s_ancestral', 10, 0), await error('dpmpp_2s_ancestral', 20, 0), await error('dpmpp_2s_ancestral', 40, 0)];
    expect(e[1]).toBeLessThan(e[0] * 0.5);
    expect(e[2]).toBeLessThan(e[1] * 0.5);
    for (const [k, steps] of [[1, 20], [2, 40]]) expect(e[k]).toBeLessThan((await error('euler', steps)) / 4);
  });

  // Multistep errors need not fall monotonically step by step (30 steps is a little worse than 20 here), so the
  // check spans doublings: 10 -> 20 -> 40 -> 80, and the third-order terms must beat dpmpp_2m by 4x.
  it('dpmpp_3m_sde with eta 0: error falls over doublings of steps and beats dpmpp_2m', async () => {
    const e: number[] = [];
    for (const steps of [10, 20, 40, 80]) e.push(await error('dpmpp_3m_sde', steps, 0));
    for (let k = 1; k < e.length; k++) expect(e[k]).toBeLessThan(e[k - 1]);
    expect(e[3]).toBeLessThan(e[1] * 0.4);
    for (const [k, steps] of [[1, 20], [2, 40]]) expect(e[k]).toBeLessThan((await error('dpmpp_2m', steps)) / 4);
  });

  // Second order, but with a larger error constant than the midpoint variant: at 10 steps it is no better than euler.
  it('dpmpp_2m_sde_heun with eta 0: error falls 3x per doubling of steps and beats euler 4x from 40 steps', async () => {
    const e = [await error('dpmpp_2m_sde_heun', 20, 0), await error('dpmpp_2m_sde_heun', 40, 0), await error('dpmpp_2m_sde_heun', 80, 0)];
    expect(e[1]).toBeLessThan(e[0] / 3);
    expect(e[2]).toBeLessThan(e[1] / 3);
    for (const [k, steps] of [[1, 40], [2, 80]]) expect(e[k]).toBeLessThan((await error('euler', steps)) / 4);
  });

  // On karras steps ipndm_v's error only roughly halves per doubling from 40 steps on (1.45e-3, 9.0e-4, 4.8e-4 at 40,
  // 80, 160; its order-3/4 weights reduce to Adams-Bashforth on equal steps), and 10 steps (0.011) beat 20 (0.016).
  it('ipndm_v: error falls over doublings from 20 steps and beats euler 4x', async () => {
    const e: number[] = [];
    for (const steps of [20, 40, 80, 160]) e.push(await error('ipndm_v', steps));
    for (let k = 1; k < e.length; k++) expect(e[k]).toBeLessThan(e[k - 1] * 0.7);
    for (const [k, steps] of [[0, 20], [1, 40], [2, 80]]) expect(e[k]).toBeLessThan((await error('euler', steps)) / 4);
  });

  // Second order, but its first step is Euler's and its multistep weights extrapolate over the ratio of past steps:
  // 0.098 at 20 karras steps against euler's 0.31, then 4.4x per doubling (0.020, 0.0047).
  it('res_multistep: error falls 4x per doubling of steps from 20 and beats euler 4x from 40 steps', async () => {
    const e = [await error('res_multistep', 20), await error('res_multistep', 40), await error('res_multistep', 80)];
    expect(e[1]).toBeLessThan(e[0] / 4);
    expect(e[2]).toBeLessThan(e[1] / 4);
    for (const [k, steps] of [[1, 40], [2, 80]]) expect(e[k]).toBeLessThan((await error('euler', steps)) / 4);
  });

  // Gradient estimation extrapolates the slope with gamma = 2 (Permenter & Yuan): on this target it is first order like
  // euler but with a smaller constant (0.32 vs 0.62 at 10 steps, 0.073 vs 0.077 at 80).
  it('gradient_estimation: beats euler at 10, 20 and 40 steps', async () => {
    for (const steps of [10, 20, 40]) expect(await error('gradient_estimation', steps)).toBeLessThan(await error('euler', steps));
  });

  it('CFG++ samplers without an unconditional estimate are their plain twins (uncond = the guided estimate)', async () => {
    for (const [pp, plain] of [['euler_cfg_pp', 'euler'], ['dpmpp_2m_cfg_pp', 'dpmpp_2m'], ['res_multistep_cfg_pp', 'res_multistep'],
      ['gradient_estimation_cfg_pp', 'gradient_estimation']] as const) {
      const a = await run(pp, 12);
      const b = await run(plain, 12);
      expect(maxAbsError(a.out.data, b.out.data)).toBeLessThan(1e-5);
    }
    for (const [pp, plain] of [['euler_ancestral_cfg_pp', 'euler_ancestral'], ['dpmpp_2s_ancestral_cfg_pp', 'dpmpp_2s_ancestral'],
      ['res_multistep_ancestral_cfg_pp', 'res_multistep_ancestral']] as const) {
      const a = await run(pp, 12, { seed: 4 });
      const b = await run(plain, 12, { seed: 4 });
      expect(maxAbsError(a.out.data, b.out.data)).toBeLessThan(1e-4);
    }
  });

  it('dpm_adaptive (its own steps, rtol 0.05): lands within its tolerance whatever the step count', async () => {
    for (const steps of [5, 20]) expect(await error('dpm_adaptive', steps)).toBeLessThan(0.15);
  });

  it('ancestral and SDE samplers with eta 0 are deterministic ODE solvers', async () => {
    for (const name of ['euler_ancestral', 'dpm_2_ancestral', 'dpmpp_2s_ancestral', 'dpmpp_2m_sde', 'dpmpp_2m_sde_heun', 'dpmpp_3m_sde', 'dpmpp_sde',
      'euler_ancestral_cfg_pp', 'dpmpp_2s_ancestral_cfg_pp', 'res_multistep_ancestral', 'res_multistep_ancestral_cfg_pp', 'exp_heun_2_x0_sde',
      'seeds_2', 'seeds_3'] as const) {
      const { x, out, sigmas } = await run(name, 40, { sigmaMin: 0.002, eta: 0 });
      expect(maxAbsError(out.data, exactEndpoint(x, MU, S, sigmas[0]))).toBeLessThan(0.2);
    }
    const a = await run('dpmpp_2m_sde', 15, { eta: 0 });
    const b = await run('dpmpp_2m', 15);
    expect(maxAbsError(a.out.data, b.out.data)).toBeLessThan(1e-5);
    const c = await run('exp_heun_2_x0_sde', 15, { eta: 0 });
    const d = await run('exp_heun_2_x0', 15);
    expect(maxAbsError(c.out.data, d.out.data)).toBeLessThan(1e-6);
    const e = await run('res_multistep_ancestral', 15, { eta: 0 });
    const f = await run('res_multistep', 15);
    expect(maxAbsError(e.out.data, f.out.data)).toBeLessThan(1e-6);
  });
});

describe('stochastic samplers reproduce the target distribution', () => {
  const cases: [SamplerName, number][] = [
    ['euler_ancestral', 100],
    ['dpm_2_ancestral', 30],
    ['dpmpp_sde', 100],
    ['dpmpp_2m_sde', 30],
    ['dpmpp_2s_ancestral', 30],
    ['dpmpp_2m_sde_heun', 30],
    ['dpmpp_3m_sde', 30],
    // DDPM's posterior step plugs in E[x0 | x_t] and so drops Var[x0 | x_t]: variance falls short at few steps.
    ['ddpm', 100],
    // Like euler_ancestral, whose step it is when there is no unconditional estimate (variance 0.81 at 30 steps).
    ['euler_ancestral_cfg_pp', 100],
    ['dpmpp_2s_ancestral_cfg_pp', 30],
    ['exp_heun_2_x0_sde', 30],
    ['res_multistep_ancestral', 30],
    ['res_multistep_ancestral_cfg_pp', 30],
    ['er_sde', 30],
    ['seeds_2', 30],
    ['seeds_3', 30],
    ['sa_solver', 30],
    ['sa_solver_pece', 30],
  ];
  for (const [name, steps] of cases) {
    it(`${name} (${steps} steps): mean ${MU}, variance ${S * S}`, async () => {
      const { out } = await run(name, steps, { seed: 11, shape: [1, 4, 64, 64] });
      const { mean, variance } = meanVar(out.data);
      expect(Math.abs(mean - MU)).toBeLessThan(0.05);
      expect(Math.abs(variance - S * S)).toBeLessThan(0.1);
    });
  }

  it('ddpm variance approaches the target as steps grow (0.81 at 30 steps, 0.95 at 100, 0.98 at 300)', async () => {
    const v30 = meanVar((await run('ddpm', 30, { seed: 11, shape: [1, 4, 64, 64] })).out.data).variance;
    const v300 = meanVar((await run('ddpm', 300, { seed: 11, shape: [1, 4, 64, 64] })).out.data).variance;
    expect(Math.abs(v300 - S * S)).toBeLessThan(Math.abs(v30 - S * S) / 4);
  });

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

describe('_gpu samplers', () => {
  // ComfyUI's _gpu variants differ only in generating the Brownian tree on the GPU, so on CPU they equal the plain ones.
  for (const [gpu, plain] of [['dpmpp_sde_gpu', 'dpmpp_sde'], ['dpmpp_2m_sde_gpu', 'dpmpp_2m_sde'], ['dpmpp_2m_sde_heun_gpu', 'dpmpp_2m_sde_heun'],
    ['dpmpp_3m_sde_gpu', 'dpmpp_3m_sde']] as const) {
    it(`${gpu} gives bitwise the output of ${plain}`, async () => {
      const a = await run(gpu, 9, { seed: 21, shape: [1, 4, 8, 8] });
      const b = await run(plain, 9, { seed: 21, shape: [1, 4, 8, 8] });
      expect(Buffer.from(a.out.data.buffer).equals(Buffer.from(b.out.data.buffer))).toBe(true);
    });
  }
});
