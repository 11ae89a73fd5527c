/**
 * The SD 1.5 training schedule (diffusers DDPMScheduler, beta_schedule "scaled_linear"): betas =
 * linspace(sqrt(0.00085), sqrt(0.012), 1000)^2, abar = cumprod(1 - betas), sigma = sqrt((1 - abar) / abar).
 */
export const TRAIN_STEPS = 1000;
export const BETA_START = 0.00085;
export const BETA_END = 0.012;

/** sigma_t for t = 0..999, computed in float64. */
export function trainingSigmas(): Float64Array {
  const out = new Float64Array(TRAIN_STEPS);
  const a = Math.sqrt(BETA_START);
  const b = Math.sqrt(BETA_END);
  let abar = 1;
  for (let t = 0; t < TRAIN_STEPS; t++) {
    const beta = (a + ((b - a) * t) / (TRAIN_STEPS - 1)) ** 2;
    abar *= 1 - beta;
    out[t] = Math.sqrt((1 - abar) / abar);
  }
  return out;
}

/** sigma at a fractional timestep: linear interpolation in log-sigma, t clamped to [0, 999]. */
export function sigmaAt(t: number): number {
  const s = trainingSigmas();
  const tc = Math.min(Math.max(t, 0), TRAIN_STEPS - 1);
  const lo = Math.floor(tc);
  const hi = Math.min(lo + 1, TRAIN_STEPS - 1);
  const f = tc - lo;
  return Math.exp((1 - f) * Math.log(s[lo]) + f * Math.log(s[hi]));
}
