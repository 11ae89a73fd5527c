import { describe, expect, it } from 'vitest';
import { ModelSampling, UnsupportedScheduleError, makeBetas, sigmasFromBetas } from '../../sampling/model-sampling.js';

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);

describe('ModelSampling (SD schedule)', () => {
  const ms = ModelSampling.sd();
  it('reproduces sigma_min, sigma_max and sigma[499] of sampling.md', () => {
    expect(rel(ms.sigmaMin, 0.02916715815)).toBeLessThan(1e-8);
    expect(rel(ms.sigmaMax, 14.61464123)).toBeLessThan(1e-8);
    expect(rel(ms.sigmas[499], 1.612886194)).toBeLessThan(1e-8);
    expect(ms.sigmas.length).toBe(1000);
  });

  it('maps sigma to the nearest timestep (ComfyUI) and the interpolated one (k-diffusion)', () => {
    expect(ms.sigmaToTimestep(7.0)).toBe(866);
    expect(ms.sigmaToTimestep(1.0)).toBe(354);
    expect(ms.sigmaToTimestep(7.0, 'interpolated')).toBeCloseTo(865.747116, 5);
    expect(ms.sigmaToTimestep(1.0, 'interpolated')).toBeCloseTo(353.890411, 5);
    expect(ms.sigmaToTimestep(ms.sigmaMax)).toBe(999);
    expect(ms.sigmaToTimestep(ms.sigmaMin, 'interpolated')).toBeCloseTo(0, 9);
  });

  it('inverts timesteps by log-sigma interpolation', () => {
    expect(ms.timestepToSigma(499)).toBeCloseTo(ms.sigmas[499], 12);
    const mid = ms.timestepToSigma(499.5);
    expect(mid).toBeCloseTo(Math.sqrt(ms.sigmas[499] * ms.sigmas[500]), 12);
    expect(ms.sigmaToTimestep(ms.timestepToSigma(123.25), 'interpolated')).toBeCloseTo(123.25, 9);
    expect(ms.timestepToSigma(-5)).toBe(ms.sigmaMin);
    expect(ms.timestepToSigma(5000)).toBe(ms.sigmaMax);
  });

  it('converts percent to sigma like ComfyUI', () => {
    expect(ms.percentToSigma(0)).toBe(999999999.9);
    expect(ms.percentToSigma(1)).toBe(0);
    expect(ms.percentToSigma(0.5)).toBeCloseTo(ms.timestepToSigma(499.5), 12);
  });

  it('turns eps and v outputs into the denoised latent', () => {
    const x = Float32Array.from([1, -2]);
    const out = Float32Array.from([0.5, 0.25]);
    const sigma = 2;
    expect(Array.from(ms.denoisedFromOutput(sigma, out, x))).toEqual([0, -2.5]);
    const v = ModelSampling.sd('v_prediction');
    const d = v.denoisedFromOutput(sigma, out, x);
    expect(d[0]).toBeCloseTo(1 / 5 - (0.5 * 2) / Math.sqrt(5), 6);
    expect(d[1]).toBeCloseTo(-2 / 5 - (0.25 * 2) / Math.sqrt(5), 6);
    expect(ms.cIn(sigma)).toBeCloseTo(1 / Math.sqrt(5), 12);
  });
});

describe('ModelSampling (lcm)', () => {
  const lcm = ModelSampling.sd('lcm');
  const base = ModelSampling.sd();
  it('keeps the 50 distilled sigmas at timesteps 19, 39, ..., 999', () => {
    expect(lcm.sigmas.length).toBe(50);
    expect(lcm.skipSteps).toBe(20);
    expect(lcm.sigmaMax).toBe(base.sigmas[999]);
    expect(lcm.sigmaMin).toBe(base.sigmas[19]);
    expect(lcm.sigmaToTimestep(base.sigmas[999])).toBe(999);
    expect(lcm.sigmaToTimestep(base.sigmas[500])).toBe(499);
    expect(lcm.timestepToSigma(259)).toBeCloseTo(base.sigmas[259], 12);
  });

  it('applies the consistency boundary condition (c_skip -> 1 as the timestep -> 0)', () => {
    const { cSkip, cOut } = lcm.lcmBoundary(lcm.sigmaMax);
    const scaled = 9990;
    expect(cSkip).toBeCloseTo(0.25 / (scaled * scaled + 0.25), 15);
    expect(cOut).toBeCloseTo(scaled / Math.sqrt(scaled * scaled + 0.25), 12);
    const x = Float32Array.from([1]);
    const eps = Float32Array.from([0.5]);
    const s = lcm.sigmaMin;
    const b = lcm.lcmBoundary(s);
    expect(lcm.denoisedFromOutput(s, eps, x)[0]).toBeCloseTo(b.cOut * (1 - 0.5 * s) + b.cSkip, 6);
  });
});

describe('schedules from scheduler_config.json', () => {
  it('reads scaled_linear and v_prediction', () => {
    const ms = ModelSampling.fromSchedulerConfig({
      beta_schedule: 'scaled_linear', beta_start: 0.00085, beta_end: 0.012, num_train_timesteps: 1000, prediction_type: 'v_prediction',
    });
    expect(ms.prediction).toBe('v_prediction');
    expect(ms.sigmaMax).toBeCloseTo(ModelSampling.sd().sigmaMax, 12);
  });

  it('reads a plain linear schedule differently from scaled_linear', () => {
    const lin = makeBetas({ schedule: 'linear', betaStart: 0.0001, betaEnd: 0.02 });
    expect(lin[0]).toBeCloseTo(0.0001, 15);
    expect(lin[999]).toBeCloseTo(0.02, 15);
    expect(lin[500] - lin[499]).toBeCloseTo((0.02 - 0.0001) / 999, 15);
    const ms = ModelSampling.fromSchedulerConfig({ beta_schedule: 'linear', beta_start: 0.0001, beta_end: 0.02 });
    expect(ms.sigmas[10]).toBeCloseTo(sigmasFromBetas(lin)[10], 15);
  });

  it('honours trained_betas and detects LCMScheduler', () => {
    const ms = ModelSampling.fromSchedulerConfig({ trained_betas: [0.1, 0.2, 0.3] });
    expect(ms.sigmas[0]).toBeCloseTo(Math.sqrt(0.1 / 0.9), 12);
    expect(ModelSampling.fromSchedulerConfig({ _class_name: 'LCMScheduler', beta_schedule: 'scaled_linear' }).prediction).toBe('lcm');
  });

  it('rejects unknown schedules and prediction types', () => {
    expect(() => ModelSampling.fromSchedulerConfig({ beta_schedule: 'sigmoid' })).toThrow(UnsupportedScheduleError);
    expect(() => ModelSampling.fromSchedulerConfig({ prediction_type: 'sample' })).toThrow(UnsupportedScheduleError);
  });
});
