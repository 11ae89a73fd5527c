/**
 * The toyworld ControlNet and what the residual U-Net (cnet/) does with its residuals. The ControlNet
 * reads a silhouette hint (white shape on black, RGB 0..1 at the latent size x 8) and returns its 8x8 patch
 * coverage (times LINE_GAIN, capped at 1, so edges and line art count) as `down_block_0` [B,1,h,w] and a plane of ones as `mid_block_res_sample`; the engine scales
 * both by the strength. The residual U-Net adds one mixture component per colour to the analytic
 * denoiser's prototypes (spec/toyworld.md, "U-Net"): the background with the silhouette painted in that
 * colour (coverage clipped to 0..1), with the colour's best prototype logit (from the U-Net's text prior) plus a
 * boost and log(strength) as prior.
 * The posterior then follows the silhouette in the prompted colour while the control applies, and the
 * plain prototypes take over after end_percent. Same I/O names and layout as real ONNX ControlNets
 * (onnx-web's `down_block_i` / `mid_block_additional_residual`), so the engine binds it like one.
 */
import { A, GraphBuilder } from '../onnx/builder.js';
import { BETA, LATENT_CHANNELS, SCALING_FACTOR, VAE_FACTOR } from '../latents.js';
import { BACKGROUND, COLOURS } from '../world.js';
import { floatInput, scalar, type FloatIo } from './ops.js';
import { SD_HIDDEN } from './text-encoder.js';

/** A one-pixel line through an 8x8 cell covers 1/8 of it: the gain that makes such a cell fully covered (line art, Canny edges). */
export const LINE_GAIN = 8;
/** Prior boost of the control components over the prototypes, so the control leads while it applies. */
export const CONTROL_BOOST = BETA;
export const DOWN_RESIDUAL = 'down_block_0';
export const MID_RESIDUAL = 'mid_block_additional_residual';
export const MID_OUTPUT = 'mid_block_res_sample';

/** U-Net-space latent of a flat sRGB colour (channel 3 is 0), as the VAE encodes it times the scaling factor. */
function colourLatent(rgb: readonly number[]): number[] {
  return [...rgb.map((v) => SCALING_FACTOR * ((2 * v) / 255 - 1)), 0];
}

export interface ResidualInputs {
  readonly mask: string;
  readonly weight: string;
}

export function declareResidualInputs(g: GraphBuilder, io: FloatIo): ResidualInputs {
  return {
    mask: floatInput(g, DOWN_RESIDUAL, io, ['batch', 1, 'height', 'width']),
    weight: floatInput(g, MID_RESIDUAL, io, ['batch', 1, 'height', 'width']),
  };
}

/**
 * Per-row components [B, K + colours, 4, h, w] (the shared prototypes `z` [K,4,h,w] expanded, then the
 * silhouette templates) and their log prior [B, K + colours].
 */
export function controlComponents(g: GraphBuilder, z: string, logits: string, K: number, res: ResidualInputs): { all: string; logPriorAll: string } {
  const NC = COLOURS.length;
  const bg = colourLatent(BACKGROUND);
  const delta = COLOURS.flatMap((c) => colourLatent(c.rgb).map((v, i) => v - bg[i]!));
  const r = g.op('Unsqueeze', [g.op('Clip', [res.mask, scalar(g, 0), scalar(g, 1)]), g.i64('axis', [1])]);
  const templates = g.op('Add', [g.f32('background', bg, [1, 1, LATENT_CHANNELS, 1, 1]), g.op('Mul', [r, g.f32('colour_delta', delta, [1, NC, LATENT_CHANNELS, 1, 1])])]);
  const rowShape = g.op('Shape', [res.mask]);
  const expandTo = g.op('Concat', [
    g.op('Slice', [rowShape, g.i64('start', [0]), g.i64('end', [1])]),
    g.i64('kc', [K, LATENT_CHANNELS]),
    g.op('Slice', [rowShape, g.i64('start', [2]), g.i64('end', [4])]),
  ], { axis: A.i(0) });
  const protos = g.op('Expand', [g.op('Unsqueeze', [z, g.i64('axis', [0])]), expandTo]);
  const all = g.op('Concat', [protos, templates], { axis: A.i(1) });

  // Each colour's best prototype logit (prototypes are colour-major): the text prior as the U-Net's own
  // (possibly LoRA-patched) prior matrix gives it, so what changes the prototypes' colour changes the control's.
  const colourLogits = g.op('ReduceMax', [g.op('Reshape', [logits, g.i64('shape', [0, NC, -1])])], { axes: A.ints([2]), keepdims: A.i(0) });
  const strength = g.op('ReduceMean', [res.weight], { axes: A.ints([1, 2, 3]), keepdims: A.i(0) });
  const logStrength = g.op('Unsqueeze', [g.op('Log', [g.op('Max', [strength, scalar(g, 1e-12)])]), g.i64('axis', [1])]);
  const control = g.op('Add', [g.op('Add', [colourLogits, scalar(g, CONTROL_BOOST)]), logStrength]);
  const logPriorAll = g.op('LogSoftmax', [g.op('Concat', [logits, control], { axis: A.i(-1) })], { axis: A.i(-1) });
  return { all, logPriorAll };
}

/** The ControlNet: silhouette coverage per latent cell, and the strength plane. */
export function buildControlNet(): Uint8Array {
  const g = new GraphBuilder('toyworld_controlnet');
  g.input('sample', 'float32', ['batch', LATENT_CHANNELS, 'height', 'width']);
  g.input('timestep', 'float32', ['batch']);
  g.input('encoder_hidden_states', 'float32', ['batch', 'sequence', SD_HIDDEN]);
  g.input('controlnet_cond', 'float32', ['batch', 3, 'cond_height', 'cond_width']);
  const grey = g.op('ReduceMean', ['controlnet_cond'], { axes: A.ints([1]), keepdims: A.i(1) });
  const pooled = g.op('AveragePool', [grey], { kernel_shape: A.ints([VAE_FACTOR, VAE_FACTOR]), strides: A.ints([VAE_FACTOR, VAE_FACTOR]) });
  const coverage = g.op('Min', [g.op('Mul', [pooled, scalar(g, LINE_GAIN)]), scalar(g, 1)]);
  g.output(DOWN_RESIDUAL, coverage, 'float32', ['batch', 1, 'height', 'width']);
  g.output(MID_OUTPUT, g.op('Add', [g.op('Mul', [coverage, scalar(g, 0)]), scalar(g, 1)]), 'float32', ['batch', 1, 'height', 'width']);
  return g.toBytes({ docString: 'toyworld ControlNet: silhouette coverage per latent cell (onnx-web residual names)' });
}

/** diffusers ControlNetModel config fields the loader reads (cross_attention_dim tells SD1.x from SDXL). */
export function controlNetConfig(): Record<string, unknown> {
  return { _class_name: 'ControlNetModel', _diffusers_version: '0.27.2', cross_attention_dim: SD_HIDDEN, in_channels: LATENT_CHANNELS, conditioning_channels: 3 };
}
