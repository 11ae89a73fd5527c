import { describe, expect, it } from 'vitest';
import { deisCoefficients, edmToVpTime } from '../../../sampling/samplers/deis.js';
import { karrasSigmas } from '../../../sampling/schedulers/index.js';

describe('DEIS tab coefficients (ComfyUI k_diffusion/deis.py)', () => {
  it('edm2t maps sigma to the VP time of the schedule fitted to sigma 0.002..80 (t(0.002) = 1e-3, t(80) = 1)', () => {
    const { t } = edmToVpTime(Float64Array.from([0.002, 80]));
    expect(t[0]).toBeCloseTo(1e-3, 9);
    expect(t[1]).toBeCloseTo(1, 9);
  });

  it('order 1 on the first step and on the step to 0; up to order 3 between', () => {
    const c = deisCoefficients(karrasSigmas(6, 0.0292, 14.6));
    expect(c.map((w) => w.length)).toEqual([0, 2, 3, 3, 3, 0]);
  });

  // The integrand -0.5 dlog(alphabar)/dt / sqrt(alphabar (1 - alphabar)) is d sigma / dt, and the Lagrange basis sums to
  // 1, so each step's weights sum to sigma_next - sigma (up to the 10000-point sum's error).
  it("each step's weights sum to sigma_next - sigma", () => {
    const sigmas = karrasSigmas(10, 0.0292, 14.6);
    deisCoefficients(sigmas).forEach((w, i) => {
      if (w.length === 0) return;
      const sum = w.reduce((a, b) => a + b, 0);
      expect(Math.abs(sum - (sigmas[i + 1] - sigmas[i]))).toBeLessThan(2e-3 * Math.abs(sigmas[i + 1] - sigmas[i]));
    });
  });
});
