import { describe, expect, it } from 'vitest';
import { ModelSampling } from '../../../sampling/model-sampling.js';
import {
  SCHEDULERS,
  SCHEDULER_NAMES,
  UnknownSchedulerError,
  betaScheduler,
  karrasSigmas,
  ksamplerSigmas,
  polyexponentialSigmas,
  sdTurboSigmas,
  sliceSigmasForSteps,
} from '../../../sampling/schedulers/index.js';

const ms = ModelSampling.sd();

function expectRel(actual: ArrayLike<number>, first: number[], last: number[]): void {
  const n = actual.length;
  first.forEach((v, i) => expect(Math.abs(actual[i] - v) / v).toBeLessThan(1e-6));
  last.forEach((v, i) => {
    const a = actual[n - last.length + i];
    if (v === 0) expect(a).toBe(0);
    else expect(Math.abs(a - v) / v).toBeLessThan(1e-6);
  });
}

describe('20-step reference values (sampling.md)', () => {
  it('normal', () => expectRel(SCHEDULERS.normal(ms, 20), [14.61464123, 10.74680246, 8.081519437], [0.2321642441, 0.02916715815, 0]));
  it('karras', () => expectRel(SCHEDULERS.karras(ms, 20), [14.61464123, 11.72536485, 9.340202752], [0.04848136192, 0.02916715815, 0]));
  it('exponential', () => expectRel(SCHEDULERS.exponential(ms, 20), [14.61464123, 10.53630835, 7.596066981], [0.04045701187, 0.02916715815, 0]));
  it('simple', () => expectRel(SCHEDULERS.simple(ms, 20), [14.61464123, 10.90423538, 8.302803191], [0.3416738323, 0.2230031379, 0]));
  it('beta picks the table indices scipy.stats.beta.ppf(0.6, 0.6) gives', () => {
    // NOTE: indices computed with ComfyUI's beta_scheduler (numpy rint of scipy ppf * 999) for 20 steps
    const idx = [999, 986, 959, 922, 876, 823, 765, 703, 637, 569, 500, 430, 362, 296, 234, 176, 123, 77, 40, 13];
    expect(Array.from(SCHEDULERS.beta(ms, 20))).toEqual([...idx.map((i) => ms.sigmas[i]), 0]);
  });
});

describe('every scheduler', () => {
  for (const name of SCHEDULER_NAMES) {
    for (const steps of [1, 4, 20, 33]) {
      it(`${name} with ${steps} steps is descending and ends in 0`, () => {
        const s = SCHEDULERS[name](ms, steps);
        if (name === 'beta') expect(s.length).toBeLessThanOrEqual(steps + 1);
        else if (name === 'ddim_uniform') expect(s.length).toBeGreaterThanOrEqual(steps + 1);
        else expect(s.length).toBe(steps + 1);
        expect(s[s.length - 1]).toBe(0);
        for (let i = 1; i < s.length; i++) expect(s[i]).toBeLessThan(s[i - 1]);
        for (const v of s) expect(Number.isFinite(v)).toBe(true);
        expect(s[0]).toBeLessThanOrEqual(ms.sigmaMax * (1 + 1e-12));
      });
    }
  }

  it('are in ComfyUI order', () => {
    expect(SCHEDULER_NAMES).toEqual(['simple', 'sgm_uniform', 'karras', 'exponential', 'ddim_uniform', 'beta', 'normal', 'linear_quadratic', 'kl_optimal']);
  });

  it('sgm_uniform starts at sigma_max and leaves out the t_min endpoint', () => {
    const s = SCHEDULERS.sgm_uniform(ms, 4);
    expect(s[0]).toBeCloseTo(ms.sigmaMax, 10);
    expect(s[3]).toBeCloseTo(ms.timestepToSigma(999 / 4), 10);
  });

  it('ddim_uniform uses table entries 1, 1 + k, ...', () => {
    const s = SCHEDULERS.ddim_uniform(ms, 20);
    expect(s.length).toBe(21);
    expect(s[19]).toBe(ms.sigmas[1]);
    expect(s[0]).toBe(ms.sigmas[951]);
  });

  it('kl_optimal interpolates atan(sigma)', () => {
    const s = SCHEDULERS.kl_optimal(ms, 3);
    expect(s[1]).toBeCloseTo(Math.tan(0.5 * Math.atan(ms.sigmaMin) + 0.5 * Math.atan(ms.sigmaMax)), 12);
  });
});

describe('explicit-parameter schedules', () => {
  it('karras with rho and bounds', () => {
    const s = karrasSigmas(3, 0.1, 10, 7);
    expect(s[0]).toBeCloseTo(10, 12);
    expect(s[1]).toBeCloseTo(((10 ** (1 / 7) + 0.1 ** (1 / 7)) / 2) ** 7, 12);
    expect(s[2]).toBeCloseTo(0.1, 12);
  });
  it('polyexponential with rho 1 is exponential', () => {
    const s = polyexponentialSigmas(5, 0.1, 10, 1);
    expect(s[2]).toBeCloseTo(1, 12);
    expect(s[5]).toBe(0);
  });
  it('beta scheduler with alpha = beta = 1 is uniform in the table', () => {
    const s = betaScheduler(ms, 4, 1, 1);
    expect(Array.from(s)).toEqual([ms.sigmas[999], ms.sigmas[749], ms.sigmas[500], ms.sigmas[250], 0]);
  });
});

describe('KSampler rules', () => {
  it('drops the penultimate sigma for dpm_2 and uni_pc', () => {
    const full = SCHEDULERS.karras(ms, 11);
    const s = ksamplerSigmas(ms, 'karras', 'dpm_2', 10);
    expect(s.length).toBe(11);
    expect(Array.from(s)).toEqual([...Array.from(full.subarray(0, 10)), 0]);
    expect(ksamplerSigmas(ms, 'karras', 'uni_pc_bh2', 10).length).toBe(11);
    expect(Array.from(ksamplerSigmas(ms, 'karras', 'euler', 10))).toEqual(Array.from(SCHEDULERS.karras(ms, 10)));
  });

  it('denoise < 1 keeps the tail of a longer schedule', () => {
    const s = ksamplerSigmas(ms, 'normal', 'euler', 10, 0.5);
    const full = SCHEDULERS.normal(ms, 20);
    expect(Array.from(s)).toEqual(Array.from(full.subarray(10)));
    expect(ksamplerSigmas(ms, 'normal', 'euler', 10, 0.3).length).toBe(11); // floor(10 / 0.3) = 33 steps
    expect(ksamplerSigmas(ms, 'normal', 'euler', 10, 0).length).toBe(0);
  });

  it('rejects unknown schedulers', () => {
    expect(() => ksamplerSigmas(ms, 'nope', 'euler', 10)).toThrow(UnknownSchedulerError);
  });

  it('slices for KSamplerAdvanced start/end steps', () => {
    const s = SCHEDULERS.normal(ms, 10);
    const a = sliceSigmasForSteps(s, 2, 6, false);
    expect(Array.from(a ?? [])).toEqual(Array.from(s.subarray(2, 7)));
    const b = sliceSigmasForSteps(s, 0, 6, true);
    expect(b?.[6]).toBe(0);
    expect(b?.length).toBe(7);
    expect(sliceSigmasForSteps(s, 10, 10000, false)).toBeNull();
    expect(Array.from(sliceSigmasForSteps(s, 0, 10000, true) ?? [])).toEqual(Array.from(s));
  });

  it('SDTurbo uses timesteps 999, 899, ... shifted by denoise', () => {
    const s = sdTurboSigmas(ms, 2, 1);
    expect(Array.from(s)).toEqual([ms.sigmas[999], ms.sigmas[899], 0]);
    const d = sdTurboSigmas(ms, 1, 0.5);
    expect(Array.from(d)).toEqual([ms.sigmas[499], 0]);
  });
});
