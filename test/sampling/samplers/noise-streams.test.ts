import { describe, expect, it } from 'vitest';
import { Tensor } from '../../../runtime/tensor.js';
import { BrownianTreeNoiseSampler } from '../../../sampling/brownian.js';
import { TorchGenerator } from '../../../sampling/noise.js';
import { NoiseSourceError, SAMPLERS, SAMPLER_NAMES, STOCHASTIC_SAMPLERS, ancestralStep, type Denoiser, type SamplerName } from '../../../sampling/samplers/index.js';
import { karrasSigmas } from '../../../sampling/schedulers/index.js';
import { gaussianDenoiser, meanVar } from './gaussian.js';

const f = Math.fround;
const zeroDenoiser: Denoiser = async (x) => Tensor.zeros(x.shape);
const bits = (t: Tensor): Buffer => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
const ANCESTRAL: SamplerName[] = [
  'euler_ancestral', 'dpm_2_ancestral', 'dpmpp_2s_ancestral', 'ddpm', 'lcm',
  // ComfyUI's newer stochastic samplers also draw from default_noise_sampler(x, seed), not from a Brownian tree.
  'euler_ancestral_cfg_pp', 'dpmpp_2s_ancestral_cfg_pp', 'exp_heun_2_x0_sde', 'res_multistep_ancestral',
  'res_multistep_ancestral_cfg_pp', 'er_sde', 'seeds_2', 'seeds_3', 'sa_solver', 'sa_solver_pece',
];
const SDE: SamplerName[] = ['dpmpp_sde', 'dpmpp_2m_sde', 'dpmpp_2m_sde_heun', 'dpmpp_3m_sde'];

describe('ancestral noise: ComfyUI default_noise_sampler, a CPU generator seeded with seed + 1', () => {
  for (const name of ANCESTRAL) {
    it(`${name} draws torch.randn of the whole batch from Generator().manual_seed(seed + 1), step after step`, async () => {
      const sigmas = karrasSigmas(6, 0.0292, 14.6);
      const x = new TorchGenerator(77).randn([2, 4, 3, 5]);
      const withSeed = await SAMPLERS[name](gaussianDenoiser(0.3, 1), x, sigmas, { seed: 77 });
      const gen = new TorchGenerator(78);
      const withStream = await SAMPLERS[name](gaussianDenoiser(0.3, 1), x, sigmas, { noise: (sh) => gen.randn(sh) });
      expect(bits(withSeed).equals(bits(withStream))).toBe(true);
      const same = new TorchGenerator(77);
      const withInitialStream = await SAMPLERS[name](gaussianDenoiser(0.3, 1), x, sigmas, { noise: (sh) => same.randn(sh) });
      expect(bits(withSeed).equals(bits(withInitialStream))).toBe(false);
    });
  }

  it('lcm from x = 0 with D = 0 ends at sigma_last times the second draw', async () => {
    const out = await SAMPLERS.lcm(zeroDenoiser, Tensor.zeros([1, 4, 4, 4]), Float64Array.from([2, 1, 0.5]), { seed: 41n });
    const gen = new TorchGenerator(42);
    gen.randn([1, 4, 4, 4]);
    const second = gen.randn([1, 4, 4, 4]).data;
    expect(Array.from(out.data)).toEqual(Array.from(second, (v) => f(0.5 * v)));
  });

  it('adds 1 to the seed mod 2^32 (PyTorch seeds its MT19937 with seed mod 2^32), so 2^64 - 1 draws from seed 0', async () => {
    const sigmas = Float64Array.from([3, 1]);
    const a = await SAMPLERS.lcm(zeroDenoiser, Tensor.zeros([1, 17]), sigmas, { seed: 2n ** 64n - 1n });
    expect(Array.from(a.data)).toEqual(Array.from(new TorchGenerator(0).randn([1, 17]).data));
    const b = await SAMPLERS.lcm(zeroDenoiser, Tensor.zeros([1, 17]), sigmas, { seed: 5 });
    const c = await SAMPLERS.lcm(zeroDenoiser, Tensor.zeros([1, 17]), sigmas, { seed: 2n ** 32n + 5n });
    expect(bits(b).equals(bits(c))).toBe(true);
  });
});

describe('SDE noise: ComfyUI BrownianTreeNoiseSampler, one tree per run with the seed as entropy', () => {
  it('dpmpp_2m_sde / 2m_sde_heun / 3m_sde: one step from x = 0 with D = 0 is sigma_next sqrt(1 - e^(-2h)) times the Brownian draw', async () => {
    const shape = [1, 4, 4, 4];
    const [s, sNext] = [f(9.5), f(4.25)];
    const ns = new BrownianTreeNoiseSampler(shape, sNext, s, 2024);
    const n = ns.sample(s, sNext);
    const h = Math.log(s) - Math.log(sNext);
    const amp = sNext * Math.sqrt(-Math.expm1(-2 * h));
    for (const name of ['dpmpp_2m_sde', 'dpmpp_2m_sde_heun', 'dpmpp_3m_sde', 'dpmpp_3m_sde_gpu'] as const) {
      const out = await SAMPLERS[name](zeroDenoiser, Tensor.zeros(shape), Float64Array.from([s, sNext]), { seed: 2024 });
      expect(Array.from(out.data)).toEqual(Array.from(n, (v) => f(v * amp)));
    }
  });

  it('dpmpp_sde: the midpoint draw over [sigma_s1, sigma] and the step draw over [sigma_next, sigma] come from one path', async () => {
    const shape = [1, 4, 4, 4];
    const [s, sNext] = [f(9.5), f(4.25)];
    const out = await SAMPLERS.dpmpp_sde(zeroDenoiser, Tensor.zeros(shape), Float64Array.from([s, sNext]), { seed: 11 });
    // With D = 0 the midpoint value only feeds D(x2) = 0, so the result is the second draw times sigma_up of the step.
    const ns = new BrownianTreeNoiseSampler(shape, sNext, s, 11);
    const n = ns.sample(s, sNext);
    const { sigmaUp } = ancestralStep(s, sNext, 1);
    expect(Array.from(out.data)).toEqual(Array.from(n, (v) => f(v * sigmaUp)));
  });

  for (const name of SDE) {
    it(`${name} (30 steps, Brownian noise): lands in the target distribution N(0.3, 1)`, async () => {
      const sigmas = karrasSigmas(30, 0.0292, 14.6);
      const x0 = new TorchGenerator(11).randn([1, 4, 32, 32]).data.map((v) => 0.3 + v * Math.sqrt(1 + sigmas[0] ** 2));
      const out = await SAMPLERS[name](gaussianDenoiser(0.3, 1), new Tensor('float32', x0, [1, 4, 32, 32]), sigmas, { seed: 11 });
      const { mean, variance } = meanVar(out.data);
      expect(Math.abs(mean - 0.3)).toBeLessThan(0.05);
      expect(Math.abs(variance - 1)).toBeLessThan(0.1);
    });
  }

  it('the _gpu twins give bitwise the same output (ComfyUI builds the same tree on the CPU when there is no GPU)', async () => {
    const sigmas = karrasSigmas(5, 0.0292, 14.6);
    const x = new TorchGenerator(3).randn([1, 4, 4, 4]);
    for (const [gpu, plain] of [['dpmpp_sde_gpu', 'dpmpp_sde'], ['dpmpp_2m_sde_gpu', 'dpmpp_2m_sde'], ['dpmpp_2m_sde_heun_gpu', 'dpmpp_2m_sde_heun'], ['dpmpp_3m_sde_gpu', 'dpmpp_3m_sde']] as const) {
      const a = await SAMPLERS[gpu](gaussianDenoiser(0.3, 1), x, sigmas, { seed: 3 });
      const b = await SAMPLERS[plain](gaussianDenoiser(0.3, 1), x, sigmas, { seed: 3 });
      expect(bits(a).equals(bits(b))).toBe(true);
    }
  });
});

describe('noise sources', () => {
  it('a stochastic sampler with neither seed nor noise source is refused; deterministic ones need neither', async () => {
    const sigmas = karrasSigmas(3, 0.0292, 14.6);
    const x = new TorchGenerator(1).randn([1, 1, 2, 2]);
    for (const name of SAMPLER_NAMES) {
      const p = SAMPLERS[name](gaussianDenoiser(0.3, 1), x, sigmas, {});
      if (STOCHASTIC_SAMPLERS.has(name)) await expect(p).rejects.toBeInstanceOf(NoiseSourceError);
      else await expect(p).resolves.toBeInstanceOf(Tensor);
    }
  });
});
