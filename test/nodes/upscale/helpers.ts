/** Upscale-model fixtures: toyworld upscaler flavours and broken models in a temp models/ folder, and the toyworld rule in plain TS. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { A, GraphBuilder } from '../../../toyworld/onnx/builder.js';
import { buildUpscaler, UPSCALER_EPS, UPSCALER_SHARPNESS } from '../../../toyworld/models/upscaler.js';
import { Tensor } from '../../../runtime/tensor.js';

function badRank(): Uint8Array {
  const g = new GraphBuilder('classifier_like');
  g.input('input', 'float32', ['batch', 3, 'height', 'width']);
  g.output('output', g.op('ReduceMean', ['input'], { axes: A.ints([2, 3]), keepdims: A.i(0) }), 'float32', ['batch', 3]);
  return g.toBytes();
}

function grey(): Uint8Array {
  const g = new GraphBuilder('grey');
  g.input('input', 'float32', ['batch', 1, 'height', 'width']);
  g.output('output', 'input', 'float32', ['batch', 1, 'height', 'width']);
  return g.toBytes();
}

function twoInputs(): Uint8Array {
  const g = new GraphBuilder('two');
  g.input('input', 'float32', ['batch', 3, 'height', 'width']);
  g.input('mask', 'float32', ['batch', 1, 'height', 'width']);
  g.output('output', g.op('Mul', ['input', 'mask']), 'float32', ['batch', 3, 'height', 'width']);
  return g.toBytes();
}

/** Declares symbolic channels, returns one channel: only running it tells. */
function channelSqueeze(): Uint8Array {
  const g = new GraphBuilder('squeeze');
  g.input('input', 'float32', ['batch', 'channels', 'height', 'width']);
  g.output('output', g.op('ReduceMean', ['input'], { axes: A.ints([1]), keepdims: A.i(1) }), 'float32', ['batch', 'c_out', 'h_out', 'w_out']);
  return g.toBytes();
}

export const MODELS = {
  x4: 'toyworld-x4.onnx',
  x2: 'toyworld-x2.onnx',
  fp16: 'toyworld-x4-fp16.onnx',
  fixed: 'swinir-like/toyworld-x4-fixed64.onnx',
  even: 'toyworld-x4-even.onnx',
  badRank: 'bad/classifier-like.onnx',
  grey: 'bad/grey.onnx',
  twoInputs: 'bad/two-inputs.onnx',
  squeeze: 'bad/squeeze.onnx',
} as const;

/** Writes every fixture model into `<modelsDir>/upscale_models/`. */
export function writeUpscaleModels(modelsDir: string): string {
  const dir = path.join(modelsDir, 'upscale_models');
  const files: Record<string, Uint8Array> = {
    [MODELS.x4]: buildUpscaler({ scale: 4, io: 'float32' }),
    [MODELS.x2]: buildUpscaler({ scale: 2, io: 'float32' }),
    [MODELS.fp16]: buildUpscaler({ scale: 4, io: 'float16' }),
    [MODELS.fixed]: buildUpscaler({ scale: 4, io: 'float32', fixed: 64 }),
    [MODELS.even]: buildUpscaler({ scale: 4, io: 'float32', evenOnly: true }),
    [MODELS.badRank]: badRank(),
    [MODELS.grey]: grey(),
    [MODELS.twoInputs]: twoInputs(),
    [MODELS.squeeze]: channelSqueeze(),
  };
  for (const [name, bytes] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), bytes);
  }
  return dir;
}

/** An IMAGE [B,H,W,C] with value f(b, y, x, c). */
export function image(b: number, h: number, w: number, c: number, f: (b: number, y: number, x: number, c: number) => number): Tensor<'float32'> {
  const d = new Float32Array(b * h * w * c);
  for (let n = 0; n < b; n++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) d[((n * h + y) * w + x) * c + k] = f(n, y, x, k);
  return new Tensor('float32', d, [b, h, w, c]);
}

/** The toyworld upscaler's rule (toyworld/models/upscaler.ts) on an IMAGE, in float64: the test oracle. */
export function toyworldUpscale(img: Tensor<'float32'>, s: number): Tensor<'float32'> {
  const [B, H, W, C] = img.shape as [number, number, number, number];
  const OH = H * s;
  const OW = W * s;
  const out = new Float32Array(B * OH * OW * 3);
  const axis = (o: number, n: number) => {
    const raw = (o + 0.5) / s - 0.5;
    const src = Math.max(raw, 0);
    const i0 = Math.floor(src);
    return { i0, i1: Math.min(i0 + 1, n - 1), f: src - i0, window: raw < 0 ? [0] : [i0, Math.min(i0 + 1, n - 1)] };
  };
  for (let b = 0; b < B; b++) {
    for (let Y = 0; Y < OH; Y++) {
      const ay = axis(Y, H);
      for (let X = 0; X < OW; X++) {
        const ax = axis(X, W);
        for (let c = 0; c < 3; c++) {
          const v = (y: number, x: number) => img.data[((b * H + y) * W + x) * C + c]!;
          const u = (1 - ay.f) * ((1 - ax.f) * v(ay.i0, ax.i0) + ax.f * v(ay.i0, ax.i1)) + ay.f * ((1 - ax.f) * v(ay.i1, ax.i0) + ax.f * v(ay.i1, ax.i1));
          let lo = Infinity;
          let hi = -Infinity;
          for (const y of ay.window) for (const x of ax.window) (lo = Math.min(lo, v(y, x))), (hi = Math.max(hi, v(y, x)));
          const t = (UPSCALER_SHARPNESS * (u - (lo + hi) / 2)) / (hi - lo + UPSCALER_EPS);
          out[((b * OH + Y) * OW + X) * 3 + c] = lo + (hi - lo) / (1 + Math.exp(-t));
        }
      }
    }
  }
  return new Tensor('float32', out, [B, OH, OW, 3]);
}

export function maxAbsDiff(a: Tensor<'float32'>, b: Tensor<'float32'>): number {
  let m = 0;
  for (let i = 0; i < a.size; i++) m = Math.max(m, Math.abs(a.data[i]! - b.data[i]!));
  return m;
}
