/**
 * The linear toyworld VAE (spec/toyworld.md, "Latent space and VAE"): the encoder averages R, G, B
 * over 8x8 patches (channel 3 = 0); the decoder is bilinear x8 upsampling, a ConvTranspose with the
 * triangle kernel of FCN upsampling (Long et al. 2015) after edge padding so borders keep full weight.
 */
import { A, GraphBuilder } from '../onnx/builder.js';
import { LATENT_CHANNELS, VAE_FACTOR } from '../latents.js';
import { floatInput, floatOutput, type FloatIo } from './ops.js';

/** NOTE: logvar of the `latent_parameters` flavour; exp(-20 / 2) ~ 5e-5, a near-deterministic posterior. */
export const LATENT_LOGVAR = -20;

export interface VaeEncoderOptions {
  io: FloatIo;
  /** 'latent_sample': [B,4,h,w] mean; 'latent_parameters': [B,8,h,w] mean then logvar (optimum >= 1.23). */
  output: 'latent_sample' | 'latent_parameters';
}

export function buildVaeEncoder(opts: VaeEncoderOptions): Uint8Array {
  const g = new GraphBuilder('toyworld_vae_encoder');
  const x = floatInput(g, 'sample', opts.io, ['batch', 3, 'height', 'width']);
  const outC = opts.output === 'latent_parameters' ? 2 * LATENT_CHANNELS : LATENT_CHANNELS;
  const k = VAE_FACTOR;
  const w = new Float32Array(outC * 3 * k * k);
  for (let c = 0; c < 3; c++) w.fill(1 / (k * k), (c * 3 + c) * k * k, (c * 3 + c + 1) * k * k);
  const bias = new Float32Array(outC);
  if (opts.output === 'latent_parameters') bias.fill(LATENT_LOGVAR, LATENT_CHANNELS);
  const y = g.op('Conv', [x, g.f32('patch_mean', w, [outC, 3, k, k]), g.f32('bias', bias, [outC])], {
    kernel_shape: A.ints([k, k]),
    strides: A.ints([k, k]),
  });
  floatOutput(g, opts.output, y, opts.io, ['batch', outC, 'latent_height', 'latent_width']);
  return g.toBytes({ docString: 'toyworld VAE encoder: 8x8 patch means' });
}

/** The separable triangle kernel of bilinear x`f` upsampling, 2f taps. */
export function bilinearKernel(f: number): Float64Array {
  const taps = new Float64Array(2 * f);
  const centre = (2 * f - 1) / 2;
  for (let i = 0; i < 2 * f; i++) taps[i] = 1 - Math.abs(i - centre) / f;
  return taps;
}

export function buildVaeDecoder(opts: { io: FloatIo }): Uint8Array {
  const g = new GraphBuilder('toyworld_vae_decoder');
  const z = floatInput(g, 'latent_sample', opts.io, ['batch', LATENT_CHANNELS, 'latent_height', 'latent_width']);
  const f = VAE_FACTOR;
  const k = 2 * f;
  const taps = bilinearKernel(f);
  const w = new Float32Array(LATENT_CHANNELS * 3 * k * k);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) w[(c * 3 + c) * k * k + i * k + j] = taps[i] * taps[j];
  }
  const padded = g.op('Pad', [z, g.i64('pads', [0, 0, 1, 1, 0, 0, 1, 1])], { mode: A.s('edge') });
  // NOTE: pads f/2 for half-pixel alignment plus f for the edge row added above: out = 8 * in.
  const p = f / 2 + f;
  const y = g.op('ConvTranspose', [padded, g.f32('upsample', w, [LATENT_CHANNELS, 3, k, k])], {
    kernel_shape: A.ints([k, k]),
    strides: A.ints([f, f]),
    pads: A.ints([p, p, p, p]),
  });
  floatOutput(g, 'sample', y, opts.io, ['batch', 3, 'height', 'width']);
  return g.toBytes({ docString: 'toyworld VAE decoder: bilinear x8 upsampling' });
}
