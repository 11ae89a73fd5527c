import { describe, expect, it } from 'vitest';
import { Tensor } from '../../../runtime/tensor.js';
import { SAMPLERS, UNCOND_SAMPLERS, type Denoiser, type SamplerName } from '../../../sampling/samplers/index.js';

const f = Math.fround;

/** D = a and D_uncond = b everywhere, whatever x and sigma; counts calls of each kind. */
function constantGuided(a: number, b: number, calls: { plain: number; guided: number }): Denoiser {
  const fill = (x: Tensor, v: number) => new Tensor('float32', new Float32Array(x.size).fill(v), x.shape);
  const d = async (x: Tensor) => (calls.plain++, fill(x, a));
  return Object.assign(d, {
    withUncond: async (x: Tensor) => (calls.guided++, { denoised: fill(x, a), uncond: fill(x, b) }),
  });
}

const CFG_PP: SamplerName[] = [
  'euler_cfg_pp', 'euler_ancestral_cfg_pp', 'dpmpp_2s_ancestral_cfg_pp', 'dpmpp_2m_cfg_pp', 'res_multistep_cfg_pp',
  'res_multistep_ancestral_cfg_pp', 'gradient_estimation_cfg_pp',
];

describe('CFG++ samplers', () => {
  it('are exactly the _cfg_pp names, and they ask the denoiser for the unconditional estimate', () => {
    expect([...UNCOND_SAMPLERS].sort()).toEqual([...CFG_PP].sort());
  });

  for (const name of CFG_PP) {
    it(`${name}: the first step returns to the noise along D_uncond: x1 = D + (sigma1 / sigma0)(x0 - D_uncond)`, async () => {
      // Hand-derived from ComfyUI's update for constant estimates (eta 0: the ancestral forms take no noise): euler_cfg_pp
      // D + sigma_down (x - U) / sigma; dpmpp_2m_cfg_pp D - e^-h U + e^-h x; dpmpp_2s_ancestral_cfg_pp both stages
      // from x + D - U; res_multistep_cfg_pp and gradient_estimation_cfg_pp start with the euler_cfg_pp step.
      const [a, b] = [0.25, -0.5];
      const sigmas = Float64Array.from([6, 2, 0.5, 0]);
      const x0 = new Tensor('float32', Float32Array.from([1.5, -2, 0, 3]), [1, 1, 2, 2]);
      const calls = { plain: 0, guided: 0 };
      const seen: Tensor[] = [];
      const out = await SAMPLERS[name](constantGuided(a, b, calls), x0, sigmas, { eta: 0, onStep: (s) => void seen.push(s.x) });
      const expected = Array.from(x0.data, (v) => a + (2 / 6) * (v - b));
      for (let k = 0; k < 4; k++) expect(seen[1].data[k]).toBeCloseTo(expected[k], 5);
      expect(Array.from(out.data)).toEqual([f(a), f(a), f(a), f(a)]);
      expect(calls.guided).toBeGreaterThanOrEqual(3);
    });
  }
});
