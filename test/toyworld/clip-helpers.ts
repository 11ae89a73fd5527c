/** Zero-shot classification with the toyworld CLIP ONNX files, run directly through onnxruntime. */
import type * as ort from 'onnxruntime-node';
import * as ortNode from 'onnxruntime-node';
import { CLIP_MEAN, CLIP_STD } from '../../toyworld/models/clip.js';
import { classLabels, type RgbImage } from '../../toyworld/world.js';
import { promptIds, resizeRgb, session, toPixels } from './helpers.js';

export const LABELS = classLabels();

export interface ZeroShot {
  /** Per image: probabilities over LABELS. */
  probs: number[][];
  best: string[];
}

let model: Promise<ort.InferenceSession> | undefined;

/** Softmax over "a photo of a {label}" logits of onnx/model.onnx; images are resized to 224 first. */
export async function zeroShot(images: readonly RgbImage[], labels: readonly string[] = LABELS): Promise<ZeroShot> {
  model ??= session('clip_vision/toyworld-clip/onnx/model.onnx');
  const s = await model;
  const ids = labels.flatMap((l) => promptIds(`a photo of a ${l}`, 16));
  const feeds = {
    input_ids: new ortNode.Tensor('int64', BigInt64Array.from(ids, (v) => BigInt(v)), [labels.length, 16]),
    attention_mask: new ortNode.Tensor('int64', new BigInt64Array(ids.length).fill(1n), [labels.length, 16]),
    pixel_values: toPixels(images.map((im) => (im.width === 224 && im.height === 224 ? im : resizeRgb(im, 224, 224))), CLIP_MEAN, CLIP_STD),
  };
  const out = await s.run(feeds);
  const logits = out.logits_per_image.data;
  const probs: number[][] = [];
  for (let i = 0; i < images.length; i++) {
    const row = Array.from({ length: labels.length }, (_, j) => Number(logits[i * labels.length + j]));
    const m = Math.max(...row);
    const e = row.map((v) => Math.exp(v - m));
    const z = e.reduce((a, b) => a + b, 0);
    probs.push(e.map((v) => v / z));
  }
  return { probs, best: probs.map((p) => labels[p.indexOf(Math.max(...p))]) };
}
