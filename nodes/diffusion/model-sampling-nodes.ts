/** ModelSamplingDiscrete (ComfyUI comfy_extras/nodes_model_advanced.py): override prediction type, zero-terminal-SNR. */
import { BOOLEAN, COMBO, defineNode } from '../../engine/index.js';
import { ModelSampling, type PredictionType } from '../../sampling/model-sampling.js';
import { MODEL } from '../../sockets/index.js';
import type { DiffusionModel } from '../../sockets/index.js';

/** ComfyUI rescale_zero_terminal_snr_sigmas (Lin et al. 2023, "Common Diffusion Noise Schedules ... are Flawed", Alg. 1). */
export function rescaleZeroTerminalSnr(sigmas: Float64Array): Float64Array {
  const sq = sigmas.map((s) => Math.sqrt(1 / (s * s + 1)));
  const a0 = sq[0];
  const aT = sq[sq.length - 1];
  const out = new Float64Array(sigmas.length);
  for (let i = 0; i < sq.length; i++) {
    const a = ((sq[i] - aT) * a0) / (a0 - aT);
    out[i] = Math.sqrt((1 - a * a) / (a * a));
  }
  // NOTE: ComfyUI pins the last alpha_bar to 4.8973451890853435e-08 instead of 0 (an infinite sigma).
  const last = 4.8973451890853435e-8;
  out[out.length - 1] = Math.sqrt((1 - last) / last);
  return out;
}

export function withPrediction(model: DiffusionModel, prediction: PredictionType, zsnr: boolean): DiffusionModel {
  const sigmas = zsnr ? rescaleZeroTerminalSnr(model.trainingSigmas) : model.trainingSigmas;
  return { ...model, sampling: new ModelSampling(sigmas, { prediction }) };
}

export const ModelSamplingDiscrete = defineNode({
  type: 'ModelSamplingDiscrete',
  category: 'advanced/model',
  version: '1.0.0',
  inputs: { model: MODEL, sampling: COMBO(['eps', 'v_prediction', 'lcm']), zsnr: BOOLEAN({ default: false }) },
  outputs: { MODEL },
  run: (_ctx, { model, sampling, zsnr }) => ({ MODEL: withPrediction(model, sampling, zsnr) }),
});
