/**
 * Discrete-time model sampling (sigma table, sigma <-> timestep, output -> denoised), after ComfyUI
 * `comfy/model_sampling.py` (ModelSamplingDiscrete, EPS, V_PREDICTION) and `comfy_extras/nodes_model_advanced.py`
 * (ModelSamplingDiscreteDistilled + LCM); the interpolated timestep follows k-diffusion `external.py` sigma_to_t.
 */

export type PredictionType = 'eps' | 'v_prediction' | 'lcm';
export type TimestepMode = 'nearest' | 'interpolated';

/** Thrown for a beta schedule or prediction type latentflow does not implement. */
export class UnsupportedScheduleError extends Error {
  override readonly name = 'UnsupportedScheduleError';
}

/** The fields of a diffusers `scheduler_config.json` that shape the training schedule. */
export interface SchedulerConfig {
  _class_name?: string;
  beta_schedule?: string;
  beta_start?: number;
  beta_end?: number;
  num_train_timesteps?: number;
  trained_betas?: readonly number[] | null;
  prediction_type?: string;
  original_inference_steps?: number;
}

export interface BetaScheduleOptions {
  schedule?: 'scaled_linear' | 'linear' | 'squaredcos_cap_v2';
  betaStart?: number;
  betaEnd?: number;
  timesteps?: number;
}

/**
 * Training betas (diffusers `schedulers/scheduling_ddpm.py`; ComfyUI's default "linear" is diffusers'
 * scaled_linear). Computed in float64 like ComfyUI's make_beta_schedule.
 */
export function makeBetas(opts: BetaScheduleOptions = {}): Float64Array {
  const schedule = opts.schedule ?? 'scaled_linear';
  const start = opts.betaStart ?? 0.00085;
  const end = opts.betaEnd ?? 0.012;
  const n = opts.timesteps ?? 1000;
  const betas = new Float64Array(n);
  const lerp = (a: number, b: number, i: number): number => (n === 1 ? a : a + ((b - a) * i) / (n - 1));
  for (let i = 0; i < n; i++) {
    if (schedule === 'scaled_linear') betas[i] = lerp(Math.sqrt(start), Math.sqrt(end), i) ** 2;
    else if (schedule === 'linear') betas[i] = lerp(start, end, i);
    else if (schedule === 'squaredcos_cap_v2') {
      const alphaBar = (t: number): number => Math.cos(((t + 0.008) / 1.008) * Math.PI * 0.5) ** 2;
      betas[i] = Math.min(1 - alphaBar((i + 1) / n) / alphaBar(i / n), 0.999);
    } else throw new UnsupportedScheduleError(`unknown beta schedule '${String(schedule)}'`);
  }
  return betas;
}

/** sigma_t = sqrt((1 - abar_t) / abar_t) with abar = cumprod(1 - betas). */
export function sigmasFromBetas(betas: ArrayLike<number>): Float64Array {
  const sigmas = new Float64Array(betas.length);
  let abar = 1;
  for (let i = 0; i < betas.length; i++) {
    abar *= 1 - betas[i];
    sigmas[i] = Math.sqrt((1 - abar) / abar);
  }
  return sigmas;
}

export interface ModelSamplingOptions {
  prediction?: PredictionType;
  /** LCM only: the distilled table keeps this many of the training sigmas (ComfyUI original_timesteps). */
  originalTimesteps?: number;
}

/**
 * The sigma table of a discrete diffusion model and the conversions samplers and the denoiser need.
 * For 'lcm' the table is ComfyUI's distilled one: 50 sigmas at timesteps 19, 39, ..., 999.
 */
export class ModelSampling {
  /** Ascending sigmas; index k stands for timestep k * skipSteps + (skipSteps - 1). */
  readonly sigmas: Float64Array;
  readonly logSigmas: Float64Array;
  readonly prediction: PredictionType;
  readonly skipSteps: number;
  /** Number of training timesteps the table came from (1000 for SD). */
  readonly numTimesteps: number;

  constructor(trainingSigmas: ArrayLike<number>, opts: ModelSamplingOptions = {}) {
    if (trainingSigmas.length < 2) throw new UnsupportedScheduleError('a sigma table needs at least 2 entries');
    this.prediction = opts.prediction ?? 'eps';
    this.numTimesteps = trainingSigmas.length;
    if (this.prediction === 'lcm') {
      const original = opts.originalTimesteps ?? 50;
      this.skipSteps = Math.floor(this.numTimesteps / original);
      if (this.skipSteps < 1) throw new UnsupportedScheduleError(`original_timesteps ${original} exceeds the table`);
      const table = new Float64Array(original);
      for (let x = 0; x < original; x++) table[original - 1 - x] = trainingSigmas[this.numTimesteps - 1 - x * this.skipSteps];
      this.sigmas = table;
    } else {
      this.skipSteps = 1;
      this.sigmas = Float64Array.from(trainingSigmas);
    }
    this.logSigmas = this.sigmas.map(Math.log);
  }

  /** SD 1.x / 2.x training schedule (scaled_linear 0.00085..0.012, 1000 steps). */
  static sd(prediction: PredictionType = 'eps'): ModelSampling {
    return new ModelSampling(sigmasFromBetas(makeBetas()), { prediction });
  }

  static fromBetas(betas: ArrayLike<number>, opts: ModelSamplingOptions = {}): ModelSampling {
    return new ModelSampling(sigmasFromBetas(betas), opts);
  }

  /**
   * From a diffusers scheduler_config.json object. An LCMScheduler config selects 'lcm' with its
   * original_inference_steps; `prediction` overrides (as ComfyUI's ModelSamplingDiscrete node does).
   */
  static fromSchedulerConfig(config: SchedulerConfig, prediction?: PredictionType): ModelSampling {
    let betas: Float64Array;
    if (config.trained_betas && config.trained_betas.length > 0) betas = Float64Array.from(config.trained_betas);
    else {
      const schedule = config.beta_schedule ?? 'scaled_linear';
      if (schedule !== 'scaled_linear' && schedule !== 'linear' && schedule !== 'squaredcos_cap_v2') {
        throw new UnsupportedScheduleError(`unknown beta_schedule '${schedule}' in scheduler_config.json`);
      }
      betas = makeBetas({
        schedule,
        betaStart: config.beta_start ?? 0.00085,
        betaEnd: config.beta_end ?? 0.012,
        timesteps: config.num_train_timesteps ?? 1000,
      });
    }
    let pred: PredictionType = prediction ?? 'eps';
    if (prediction === undefined) {
      if (config._class_name === 'LCMScheduler') pred = 'lcm';
      else if (config.prediction_type === 'v_prediction') pred = 'v_prediction';
      else if (config.prediction_type !== undefined && config.prediction_type !== 'epsilon') {
        throw new UnsupportedScheduleError(`unsupported prediction_type '${config.prediction_type}'`);
      }
    }
    return ModelSampling.fromBetas(betas, { prediction: pred, originalTimesteps: config.original_inference_steps });
  }

  get sigmaMin(): number {
    return this.sigmas[0];
  }

  get sigmaMax(): number {
    return this.sigmas[this.sigmas.length - 1];
  }

  /** Table index -> model timestep (identity unless distilled). */
  private indexToTimestep(index: number): number {
    return index * this.skipSteps + (this.skipSteps - 1);
  }

  /**
   * Model timestep for a sigma: ComfyUI's nearest table entry in log-sigma (default), or k-diffusion's
   * linear interpolation between the two neighbouring log-sigmas.
   */
  sigmaToTimestep(sigma: number, mode: TimestepMode = 'nearest'): number {
    const ls = Math.log(sigma);
    const logs = this.logSigmas;
    if (mode === 'nearest') {
      let best = 0;
      let bestDist = Infinity;
      for (let i = 0; i < logs.length; i++) {
        const d = Math.abs(ls - logs[i]);
        if (d < bestDist) {
          bestDist = d;
          best = i;
        }
      }
      return this.indexToTimestep(best);
    }
    // k-diffusion: low = last index with log_sigma >= logs[low], clamped to len - 2
    let low = 0;
    for (let i = 0; i < logs.length; i++) if (ls >= logs[i]) low = i;
    low = Math.min(low, logs.length - 2);
    const w = Math.min(1, Math.max(0, (logs[low] - ls) / (logs[low] - logs[low + 1])));
    return this.indexToTimestep((1 - w) * low + w * (low + 1));
  }

  /** Sigma for a (fractional) model timestep, interpolating log-sigma (ComfyUI ModelSamplingDiscrete.sigma). */
  timestepToSigma(timestep: number): number {
    const idx = (timestep - (this.skipSteps - 1)) / this.skipSteps;
    const t = Math.min(this.sigmas.length - 1, Math.max(0, idx));
    const lo = Math.floor(t);
    const hi = Math.ceil(t);
    const w = t - lo;
    if (w === 0) return this.sigmas[lo];
    return Math.exp((1 - w) * this.logSigmas[lo] + w * this.logSigmas[hi]);
  }

  /** ComfyUI percent_to_sigma: 0 -> effectively infinite, 1 -> 0, else sigma at timestep (1 - p) * 999. */
  percentToSigma(percent: number): number {
    if (percent <= 0) return 999999999.9;
    if (percent >= 1) return 0;
    return this.timestepToSigma((1 - percent) * 999);
  }

  /** c_in: the U-Net receives x / sqrt(sigma^2 + 1). */
  cIn(sigma: number): number {
    return 1 / Math.sqrt(sigma * sigma + 1);
  }

  /**
   * Denoised D from the model output for input x at sigma (ComfyUI calculate_denoised):
   * eps: x - sigma*eps; v: x/(sigma^2+1) - v*sigma/sqrt(sigma^2+1); lcm: consistency boundary condition
   * c_skip*x + c_out*(x - sigma*eps) with sigma_data 0.5 and timestep scaling 10.
   */
  denoisedFromOutput(sigma: number, output: Float32Array, input: Float32Array, out?: Float32Array): Float32Array {
    const res = out ?? new Float32Array(input.length);
    const n = input.length;
    if (this.prediction === 'eps') {
      for (let i = 0; i < n; i++) res[i] = input[i] - output[i] * sigma;
    } else if (this.prediction === 'v_prediction') {
      const a = 1 / (sigma * sigma + 1);
      const b = sigma / Math.sqrt(sigma * sigma + 1);
      for (let i = 0; i < n; i++) res[i] = input[i] * a - output[i] * b;
    } else {
      const { cSkip, cOut } = this.lcmBoundary(sigma);
      for (let i = 0; i < n; i++) res[i] = cOut * (input[i] - output[i] * sigma) + cSkip * input[i];
    }
    return res;
  }

  /** LCM's c_skip and c_out at the model timestep of sigma (Song et al. 2023, consistency models, eq. 8). */
  lcmBoundary(sigma: number): { cSkip: number; cOut: number } {
    const sigmaData = 0.5;
    const scaled = this.sigmaToTimestep(sigma) * 10; // NOTE: timestep_scaling = 10 in LCM's scheduler
    const denom = scaled * scaled + sigmaData * sigmaData;
    return { cSkip: (sigmaData * sigmaData) / denom, cOut: scaled / Math.sqrt(denom) };
  }
}
