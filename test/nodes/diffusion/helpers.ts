/** Shared fixtures for the diffusion tests: toyworld models, a model pool, a context and a CLIP classifier. */
import path from 'node:path';
import { generateToyworld } from '../../../toyworld/generate.js';
import { classLabels } from '../../../toyworld/world.js';
import { ModelPool } from '../../../runtime/model-pool.js';
import { Tensor } from '../../../runtime/tensor.js';
import { resizePlanes } from '../../../imaging/resample.js';
import { loadClipTokenizer } from '../../../tokenizer/index.js';
import { loadCheckpoint, type Checkpoint } from '../../../nodes/diffusion/checkpoint.js';
import type { PreviewImage } from '../../../engine/index.js';

export const MODELS_DIR = path.resolve('models');
export const CLIP_DIR = path.join(MODELS_DIR, 'clip_vision', 'toyworld-clip');

export async function ensureToyworld(): Promise<void> {
  await generateToyworld(MODELS_DIR, { ifMissing: true });
}

export function checkpoint(pool: ModelPool, name = 'toyworld-shapes'): Checkpoint {
  return loadCheckpoint(path.join(MODELS_DIR, 'checkpoints', name), name, pool);
}

export interface RecordedContext {
  signal: AbortSignal;
  wantsPreviews: boolean;
  progress(value: number, max: number, preview?: PreviewImage): void;
  log(message: string): void;
  steps: { value: number; max: number; preview?: PreviewImage }[];
  abort: AbortController;
}

export function testContext(): RecordedContext {
  const abort = new AbortController();
  const steps: RecordedContext['steps'] = [];
  return { signal: abort.signal, wantsPreviews: true, abort, steps, progress: (value, max, preview) => steps.push({ value, max, preview }), log: () => undefined };
}

/** CLIP preprocessing of an IMAGE row: shortest side to 224 (bicubic), centre crop, CLIP mean/std, NCHW. */
function clipPixels(image: Tensor): Tensor {
  const [, H, W] = image.shape;
  const scale = 224 / Math.min(H, W);
  const h = Math.round(H * scale);
  const w = Math.round(W * scale);
  const planes = new Float32Array(3 * H * W);
  for (let p = 0; p < H * W; p++) for (let c = 0; c < 3; c++) planes[c * H * W + p] = image.data[p * 3 + c];
  const r = resizePlanes(new Tensor('float32', planes, [3, H, W]), h, w, 'bicubic');
  const oy = Math.floor((h - 224) / 2);
  const ox = Math.floor((w - 224) / 2);
  const mean = [0.48145466, 0.4578275, 0.40821073];
  const std = [0.26862954, 0.26130258, 0.27577711];
  const out = new Float32Array(3 * 224 * 224);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < 224; i++) {
      for (let j = 0; j < 224; j++) out[(c * 224 + i) * 224 + j] = (r.data[(c * h + i + oy) * w + j + ox] - mean[c]) / std[c];
    }
  }
  return new Tensor('float32', out, [1, 3, 224, 224]);
}

export interface Classification {
  label: string;
  prob: number;
  colour: string;
  shape: string;
}

/** Zero-shot classification with the toyworld CLIP (onnx/model.onnx) over every "a photo of a {colour} {shape}". */
export async function classify(pool: ModelPool, image: Tensor): Promise<Classification> {
  const labels = classLabels();
  const tok = loadClipTokenizer(CLIP_DIR);
  const rows = labels.map((l) => tok.tokenize(`a photo of a ${l}`).ids);
  const len = rows[0].length;
  const s = await pool.session(path.join(CLIP_DIR, 'onnx', 'model.onnx'));
  const ids = new Tensor('int64', BigInt64Array.from(rows.flat(), (v) => BigInt(v)), [labels.length, len]);
  const mask = new Tensor('int64', BigInt64Array.from(rows.flat(), () => 1n), [labels.length, len]);
  const out = await s.run({ input_ids: ids, attention_mask: mask, pixel_values: clipPixels(image) }, { outputs: [['logits_per_image']] });
  const logits = Array.from(out.logits_per_image.data, Number);
  const max = Math.max(...logits);
  const best = logits.indexOf(max);
  const sum = logits.reduce((a, l) => a + Math.exp(l - max), 0);
  const [colour, shape] = labels[best].split(' ');
  return { label: labels[best], prob: 1 / sum, colour, shape };
}

/** Mean RGB of an IMAGE row over pixels where `inRegion(y, x)`. */
export function meanColour(image: Tensor, inRegion: (y: number, x: number) => boolean): [number, number, number] {
  const [, H, W] = image.shape;
  const acc = [0, 0, 0];
  let n = 0;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      if (!inRegion(y, x)) continue;
      for (let c = 0; c < 3; c++) acc[c] += image.data[(y * W + x) * 3 + c];
      n++;
    }
  }
  return [acc[0] / n, acc[1] / n, acc[2] / n];
}
