/**
 * The toyworld upscaler (upscale_models/toyworld-x4.onnx): the ESRGAN export signature (`input` float
 * [b,3,H,W] in 0..1 -> `output` [b,3,sH,sW]) with an exact, checkable rule that keeps flat colours and
 * sharp edges. For every output pixel, per channel:
 *
 *   lo, hi = min and max of the 2x2 input pixels that bilinear (half-pixel) sampling reads for it
 *   u      = the bilinear x s sample (torch interpolate, align_corners=False)
 *   out    = lo + (hi - lo) * sigmoid(SHARPNESS * (u - (lo + hi) / 2) / (hi - lo + EPS))
 *
 * Flat regions keep their colour exactly (hi = lo); an edge between two colours A and B becomes
 * A + (B - A) * sigmoid(SHARPNESS * (w - 1/2)), w the bilinear weight of B, the same in every channel, so
 * each output pixel is A or B up to a one-pixel transition: nearest-neighbour-like edges placed where
 * bilinear interpolation puts them. Bilinear is the FCN triangle kernel (as in the VAE decoder);
 * the window min/max are 2x2 pools on the edge-padded input, read back by nearest upsampling.
 */
import { A, GraphBuilder, type Dim } from '../onnx/builder.js';
import { bilinearKernel } from './vae.js';
import { floatInput, floatOutput, scalar, type FloatIo } from './ops.js';

/** NOTE: the edge steepness: sigmoid(40 * 1/16) = 0.92, so an edge spreads over about one output pixel. */
export const UPSCALER_SHARPNESS = 40;
/** NOTE: keeps the division finite on flat regions, where hi - lo = 0 makes the whole term vanish anyway. */
export const UPSCALER_EPS = 1e-6;

export interface UpscalerOptions {
  /** Output pixels per input pixel; even (the window offset is scale / 2). */
  scale: 2 | 4;
  io: FloatIo;
  /** A fixed input size (SwinIR-style exports), batch 1; dynamic H, W and batch when absent. */
  fixed?: number;
  /**
   * Real-ESRGAN x2plus-style exports pixel-unshuffle their input, so they run on even sizes only: this
   * flavour does the same (SpaceToDepth then DepthToSpace, the identity on even sizes).
   */
  evenOnly?: boolean;
}

export function buildUpscaler(opts: UpscalerOptions): Uint8Array {
  const s = opts.scale;
  const g = new GraphBuilder(`toyworld_upscaler_x${s}`);
  const inDims: Dim[] = opts.fixed ? [1, 3, opts.fixed, opts.fixed] : ['batch_size', 3, 'height', 'width'];
  const outDims: Dim[] = opts.fixed ? [1, 3, s * opts.fixed, s * opts.fixed] : ['batch_size', 3, `height_x${s}`, `width_x${s}`];
  const raw = floatInput(g, 'input', opts.io, inDims);
  const x = opts.evenOnly
    ? g.op('DepthToSpace', [g.op('SpaceToDepth', [raw], { blocksize: A.i(2) })], { blocksize: A.i(2), mode: A.s('DCR') })
    : raw;
  const edgePad = g.op('Pad', [x, g.i64('pads', [0, 0, 1, 1, 0, 0, 1, 1])], { mode: A.s('edge') });

  // Window min / max: 2x2 pools over the padded input (row r of the pool covers input rows r-1, r), then
  // output row Y reads pool row floor((Y + s/2) / s): nearest x s upsampling shifted by s/2.
  const pool = (v: string) => g.op('MaxPool', [v], { kernel_shape: A.ints([2, 2]), strides: A.ints([1, 1]) });
  const hiSmall = pool(edgePad);
  const loSmall = g.op('Neg', [pool(g.op('Neg', [edgePad]))]);
  const scales = g.f32('scales', [1, 1, s, s], [4]);
  const nearest = (v: string) => {
    const up = g.op('Resize', [v, '', scales], {
      mode: A.s('nearest'), coordinate_transformation_mode: A.s('asymmetric'), nearest_mode: A.s('floor'),
    });
    return g.op('Slice', [up, g.i64('starts', [s / 2, s / 2]), g.i64('ends', [-s / 2, -s / 2]), g.i64('axes', [2, 3])]);
  };
  const hi = nearest(hiSmall);
  const lo = nearest(loSmall);

  // Bilinear x s: edge padding then a depthwise ConvTranspose with the triangle kernel (2s taps).
  const k = 2 * s;
  const taps = bilinearKernel(s);
  const w = new Float32Array(3 * k * k);
  for (let c = 0; c < 3; c++) for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) w[(c * k + i) * k + j] = taps[i]! * taps[j]!;
  // NOTE: pads s/2 for half-pixel alignment plus s for the edge row added above: out = s * in.
  const p = s / 2 + s;
  const u = g.op('ConvTranspose', [edgePad, g.f32('bilinear', w, [3, 1, k, k])], {
    group: A.i(3), kernel_shape: A.ints([k, k]), strides: A.ints([s, s]), pads: A.ints([p, p, p, p]),
  });

  const range = g.op('Sub', [hi, lo]);
  const mid = g.op('Mul', [g.op('Add', [hi, lo]), scalar(g, 0.5)]);
  const t = g.op('Div', [g.op('Sub', [u, mid]), g.op('Add', [range, scalar(g, UPSCALER_EPS)])]);
  const step = g.op('Sigmoid', [g.op('Mul', [t, scalar(g, UPSCALER_SHARPNESS)])]);
  const y = g.op('Add', [lo, g.op('Mul', [range, step])]);
  floatOutput(g, 'output', y, opts.io, outDims);
  return g.toBytes({ docString: `toyworld upscaler x${s}: bilinear placement, snapped to the 2x2 window's colours` });
}
