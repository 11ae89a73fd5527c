/** Shared helpers of the toyworld tests: ORT sessions over a generated pack, prompts, images, float16. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { fromHalf, toHalf } from '../../runtime/float16.js';
import { tempToyworld } from '../fixtures/toyworld.js';
import { bpe, buildVocab, type ToyVocab } from '../../toyworld/vocab.js';
import type { RgbImage } from '../../toyworld/world.js';

/** Thrown when test inputs cannot be prepared (a helper misuse, not a model failure). */
export class TestSetupError extends Error {
  override readonly name = 'TestSetupError';
}

export async function session(rel: string): Promise<ort.InferenceSession> {
  const dir = await tempToyworld();
  return ort.InferenceSession.create(readFileSync(join(dir, rel)), { intraOpNumThreads: 1 });
}

const vocab: ToyVocab = buildVocab();
const ranks = new Map(vocab.merges.map((m, i) => [m, i]));

/** CLIP-style ids for a lowercase space-separated prompt, padded with EOT to `length`. */
export function promptIds(text: string, length = 77): number[] {
  const ids = [vocab.sotId];
  for (const w of text.toLowerCase().split(/\s+/).filter(Boolean)) {
    for (const sym of bpe(w, ranks)) {
      const id = vocab.ids.get(sym);
      if (id === undefined) throw new TestSetupError(`test tokenizer: no id for ${sym}`);
      ids.push(id);
    }
  }
  ids.push(vocab.eotId);
  while (ids.length < length) ids.push(vocab.eotId);
  return ids.slice(0, length);
}

/** Bilinear (half-pixel) resize of an RGB image, as image processors do for downscaling by small factors. */
export function resizeRgb(img: RgbImage, width: number, height: number): RgbImage {
  const out = new Float32Array(width * height * 3);
  for (let j = 0; j < height; j++) {
    const sy = Math.min(Math.max(((j + 0.5) * img.height) / height - 0.5, 0), img.height - 1);
    const y0 = Math.floor(sy);
    const y1 = Math.min(y0 + 1, img.height - 1);
    const fy = sy - y0;
    for (let i = 0; i < width; i++) {
      const sx = Math.min(Math.max(((i + 0.5) * img.width) / width - 0.5, 0), img.width - 1);
      const x0 = Math.floor(sx);
      const x1 = Math.min(x0 + 1, img.width - 1);
      const fx = sx - x0;
      for (let c = 0; c < 3; c++) {
        const at = (x: number, y: number): number => img.data[(y * img.width + x) * 3 + c];
        const top = at(x0, y0) * (1 - fx) + at(x1, y0) * fx;
        const bot = at(x0, y1) * (1 - fx) + at(x1, y1) * fx;
        out[(j * width + i) * 3 + c] = top * (1 - fy) + bot * fy;
      }
    }
  }
  return { width, height, data: out };
}

/** NCHW float32 of several same-size images, normalised with mean/std per channel. */
export function toPixels(imgs: readonly RgbImage[], mean: readonly number[], std: readonly number[]): ort.Tensor {
  const { width, height } = imgs[0];
  const n = width * height;
  const out = new Float32Array(imgs.length * 3 * n);
  imgs.forEach((img, b) => {
    for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) out[(b * 3 + c) * n + i] = (img.data[i * 3 + c] - mean[c]) / std[c];
  });
  return new ort.Tensor('float32', out, [imgs.length, 3, height, width]);
}

/** Deterministic standard normals (Box-Muller over a 32-bit LCG). */
export function normals(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const u = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 1) / 4294967297;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return out;
}

export function halfTensor(data: ArrayLike<number>, dims: readonly number[]): ort.Tensor {
  return new ort.Tensor('float16', Uint16Array.from(Array.from(data, toHalf)), dims);
}

export function floatData(t: ort.Tensor): Float32Array {
  if (t.type === 'float16') {
    const src = t.data;
    if (!(src instanceof Uint16Array)) throw new TestSetupError('float16 tensor without Uint16Array data');
    return Float32Array.from(src, fromHalf);
  }
  const d = t.data;
  if (!(d instanceof Float32Array)) throw new TestSetupError(`expected float32 data, got ${t.type}`);
  return d;
}

export { vocab };
