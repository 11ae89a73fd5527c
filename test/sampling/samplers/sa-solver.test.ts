import { describe, expect, it } from 'vitest';
import { Tensor } from '../../../runtime/tensor.js';
import { TorchGenerator } from '../../../sampling/noise.js';
import { SAMPLERS } from '../../../sampling/samplers/index.js';
import { exponentialCoeffs, stochasticAdamsCoeffs } from '../../../sampling/samplers/sa-solver.js';
import { karrasSigmas } from '../../../sampling/schedulers/index.js';
import { exactEndpoint, gaussianDenoiser, maxAbsError } from './gaussian.js';

/** (1 + tau^2) * integral_s^t e^((1 + tau^2)(x - t)) x^p dx by a fine midpoint sum. */
function numeric(s: number, t: number, p: number, tau: number): number {
  const m = 1 + tau * tau;
  const n = 200000;
  let sum = 0;
  for (let k = 0; k < n; k++) {
    const x = s + ((k + 0.5) * (t - s)) / n;
    sum += Math.exp(m * (x - t)) * x ** p;
  }
  return (m * sum * (t - s)) / n;
}

describe('SA-Solver coefficients (ComfyUI k_diffusion/sa_solver.py)', () => {
  it('compute_exponential_coeffs: the integration-by-parts recursion equals the integral, with and without noise', () => {
    for (const tau of [0, 1]) {
      const c = exponentialCoeffs(-0.4, 0.3, 4, tau);
      for (let p = 0; p < 4; p++) expect(c[p]).toBeCloseTo(numeric(-0.4, 0.3, p, tau), 8);
    }
  });

  it('order 1 is the exponential-integrator step: b = 1 - e^(-(1 + tau^2) h)', () => {
    for (const tau of [0, 1]) expect(stochasticAdamsCoeffs([0.1], 0.1, 0.6, tau)[0]).toBeCloseTo(1 - Math.exp(-(1 + tau * tau) * 0.5), 12);
  });

  it('the Lagrange weights reproduce polynomials: sum b_i = 1 - e^(-(1 + tau^2) h) for any order', () => {
    const b = stochasticAdamsCoeffs([-1, -0.5, 0, 0.4], 0.4, 0.9, 1);
    expect(b.reduce((a, v) => a + v, 0)).toBeCloseTo(1 - Math.exp(-2 * 0.5), 10);
  });
});

describe('sa_solver', () => {
  it('is an ODE solver where the stochastic interval is empty: converges to the probability-flow endpoint', async () => {
    const errs: number[] = [];
    for (const steps of [10, 20, 40]) {
      const sigmas = karrasSigmas(steps, 0.002, 14.6);
      const gen = new TorchGenerator(1);
      const x = new Tensor('float32', gen.randn([1, 4, 4, 4]).data.map((v) => 0.3 + v * Math.sqrt(1 + sigmas[0] ** 2)), [1, 4, 4, 4]);
      const out = await SAMPLERS.sa_solver(gaussianDenoiser(0.3, 1), x, sigmas, { percentToSigma: () => 0 });
      errs.push(maxAbsError(out.data, exactEndpoint(x, 0.3, 1, sigmas[0])));
    }
    // 0.037, 0.012, 7.6e-4 at 10, 20, 40 karras steps: the high orders only pay once the steps are small.
    expect(errs[1]).toBeLessThan(errs[0] / 2.5);
    expect(errs[2]).toBeLessThan(errs[1] / 8);
  });

  it('draws noise only for steps whose sigma_next lies in [percent_to_sigma(0.8), percent_to_sigma(0.2)]', async () => {
    const sigmas = Float64Array.from([10, 5, 2, 1, 0]);
    let draws = 0;
    const x = new TorchGenerator(2).randn([1, 1, 2, 2]);
    const noise = (sh: readonly number[]) => (draws++, new TorchGenerator(draws).randn(sh));
    await SAMPLERS.sa_solver(gaussianDenoiser(0.3, 1), x, sigmas, { noise, percentToSigma: (p) => (p === 0.2 ? 5 : 2) });
    expect(draws).toBe(2);
  });
});
