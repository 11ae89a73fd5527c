/**
 * Any ONNX image classifier folder (models/classifiers/<name>/: model.onnx, labels.txt, optional
 * preprocessor_config.json): ImageClassifierLoader and ImageClassify (softmax over the logits, top-k).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { COMBO, INT, containedLexicalPath, defineNode, type NodeContext, type Services } from '../../engine/index.js';
import { FOLDERS, MODEL_POOL } from '../../runtime/services.js';
import { CLASSIFIER, SCORES } from './sockets.js';
import { IMAGE, STRING_OUT } from '../../sockets/index.js';
import { SessionHandle } from '../../runtime/session-handle.js';
import type { Tensor } from '../../runtime/tensor.js';
import { listPipelineFolders } from '../../runtime/model-folders.js';
import { ClipModelError } from './errors.js';
import { imagenetDefaults, readPreprocessConfig } from './preprocess-config.js';
import { pixelValues } from './preprocess.js';
import { softmaxRows } from './vectors.js';
import { bestLabels, scoreTable } from './zero-shot.js';
import type { ImageClassifierModel, Scores } from './types.js';

function classifiersDir(services: Services): string {
  return path.join(services.get(FOLDERS).models, 'classifiers');
}

export function listClassifiers(services: Services): string[] {
  return listPipelineFolders(classifiersDir(services), 'model.onnx');
}

/** labels.txt: one label per line, line i = logit i. */
export function readLabels(folder: string): string[] {
  const file = path.join(folder, 'labels.txt');
  if (!existsSync(file)) throw new ClipModelError(`${folder} has no labels.txt`);
  const lines = readFileSync(file, 'utf8').split(/\r?\n/);
  while (lines.length && lines[lines.length - 1]!.trim() === '') lines.pop();
  return lines.map((l) => l.trim());
}

export function loadClassifier(folder: string, name: string, services: Services): ImageClassifierModel {
  const model = path.join(folder, 'model.onnx');
  if (!existsSync(model)) throw new ClipModelError(`${folder} has no model.onnx`);
  return { name, session: new SessionHandle(services.get(MODEL_POOL), model), labels: readLabels(folder), preprocess: readPreprocessConfig(folder, imagenetDefaults()) };
}

/** Class probabilities per image, chunked like the CLIP tower. */
export async function classifyImages(c: ImageClassifierModel, images: Tensor, ctx: Partial<Pick<NodeContext, 'signal' | 'progress'>> = {}): Promise<Scores> {
  const s = await c.session.get();
  const b = images.shape[0] ?? 0;
  const n = c.labels.length;
  const logits = new Float32Array(b * n);
  const CHUNK = 16;
  for (let from = 0; from < b; from += CHUNK) {
    ctx.signal?.throwIfAborted();
    const to = Math.min(b, from + CHUNK);
    const res = await s.run({ [s.inputs[0]?.name ?? 'input']: pixelValues(images, c.preprocess, 'center', from, to) }, { outputs: [['logits', 'output']], signal: ctx.signal });
    const out = res.logits;
    if (!out || out.dtype !== 'float32' || out.shape[0] !== to - from || out.shape[1] !== n) {
      throw new ClipModelError(`${c.name}: model returned ${out ? out.describe() : 'nothing'}, expected [${to - from}, ${n}] logits for ${n} labels`);
    }
    logits.set(out.data, from * n);
    ctx.progress?.(to, b);
  }
  return { labels: c.labels, rows: b, values: softmaxRows(logits, n), kind: 'probability' };
}

export const ImageClassifierLoader = defineNode({
  type: 'ImageClassifierLoader',
  displayName: 'Load Image Classifier',
  category: 'loaders',
  version: '1.0.0',
  inputs: { classifier_name: COMBO(listClassifiers) },
  outputs: { CLASSIFIER },
  run(ctx, { classifier_name }) {
    const folder = containedLexicalPath(classifiersDir(ctx.services), classifier_name);
    return { CLASSIFIER: loadClassifier(folder, classifier_name, ctx.services) };
  },
});

export const ImageClassify = defineNode({
  type: 'ImageClassify',
  displayName: 'Classify Image',
  category: 'clip',
  version: '1.0.0',
  inputs: { classifier: CLASSIFIER, images: IMAGE, top_k: INT({ default: 5, min: 1, max: 1000 }) },
  outputs: { SCORES, label: STRING_OUT },
  outputNode: true,
  async run(ctx, { classifier, images, top_k }) {
    const scores = await classifyImages(classifier, images, ctx);
    const best = bestLabels(scores);
    return {
      SCORES: scores,
      label: best.map((b) => b.label).join('\n'),
      ui: { classification: scoreTable(scores, top_k), text: best.map((b) => `${b.label} (${(b.score * 100).toFixed(1)}%)`) },
    };
  },
});
