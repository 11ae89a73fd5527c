import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { loadClipTokenizer } from '../../../tokenizer/index.js';

// CLIPImageProcessor settings of models/clip_vision/toyworld-clip/preprocessor_config.json.
const MEAN = [0.48145466, 0.4578275, 0.40821073];
const STD = [0.26862954, 0.26130258, 0.27577711];
const SIZE = 224;

/** Resize (shortest side 224, bicubic), centre crop 224, rescale 1/255, CLIP mean/std, CHW. */
async function pixelValues(file: string): Promise<Float32Array> {
  const { data } = await sharp(file).removeAlpha().resize(SIZE, SIZE, { fit: 'cover', position: 'centre', kernel: 'cubic' }).raw().toBuffer({ resolveWithObject: true });
  const out = new Float32Array(3 * SIZE * SIZE);
  for (let i = 0; i < SIZE * SIZE; i++) for (let c = 0; c < 3; c++) out[c * SIZE * SIZE + i] = (data[i * 3 + c]! / 255 - MEAN[c]!) / STD[c]!;
  return out;
}

/**
 * Zero-shot classification of images over the toyworld classes ("a photo of a {colour} {shape}")
 * with the toyworld CLIP export (`onnx/model.onnx`: logits_per_image).
 */
export async function classifyImages(modelsDir: string, files: readonly string[]): Promise<string[]> {
  const labels = readFileSync(path.join(modelsDir, 'classifiers/toyworld-shapes/labels.txt'), 'utf8').split('\n').map((l) => l.trim()).filter(Boolean);
  const clipDir = path.join(modelsDir, 'clip_vision/toyworld-clip');
  const tok = loadClipTokenizer(clipDir).tokenizeBatch(labels.map((l) => `a photo of a ${l}`));
  const seq = tok[0]!.ids.length;
  const ids = BigInt64Array.from(tok.flatMap((t) => t.ids.map(BigInt)));
  const mask = BigInt64Array.from(tok.flatMap((t) => t.attentionMask.map(BigInt)));
  const pixels = new Float32Array(files.length * 3 * SIZE * SIZE);
  for (let i = 0; i < files.length; i++) pixels.set(await pixelValues(files[i]!), i * 3 * SIZE * SIZE);
  const session = await ort.InferenceSession.create(path.join(clipDir, 'onnx/model.onnx'));
  try {
    const out = await session.run({
      input_ids: new ort.Tensor('int64', ids, [labels.length, seq]),
      attention_mask: new ort.Tensor('int64', mask, [labels.length, seq]),
      pixel_values: new ort.Tensor('float32', pixels, [files.length, 3, SIZE, SIZE]),
    });
    const logits = out.logits_per_image!.data as Float32Array;
    return files.map((_, r) => {
      let best = 0;
      for (let j = 1; j < labels.length; j++) if (logits[r * labels.length + j]! > logits[r * labels.length + best]!) best = j;
      return labels[best]!;
    });
  } finally {
    await session.release();
  }
}
