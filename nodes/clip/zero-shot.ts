/**
 * Zero-shot image classification (Radford et al. 2021, "Learning Transferable Visual Models From
 * Natural Language Supervision", sec. 3.1.2): embed "a photo of a {label}" per label, L2-normalise
 * both sides, logits = exp(logit_scale) * cosine, softmax over labels.
 */
import { STRING, NodeInputError, defineNode, type NodeContext } from '../../engine/index.js';
import type { Tensor } from '../../runtime/tensor.js';
import { CLIP_VISION, SCORES } from './sockets.js';
import { IMAGE, STRING_OUT } from '../../sockets/index.js';
import { encodeImages, encodeTexts } from './embed.js';
import { normalizeRows, softmaxRows } from './vectors.js';
import type { ClipVisionModel, Scores } from './types.js';

/** Labels one per line (commas also separate, for one-line widgets); blanks dropped, order kept. */
export function parseLabels(text: string): string[] {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  const parts = lines.length === 1 ? lines[0]!.split(',').map((l) => l.trim()).filter(Boolean) : lines;
  return [...new Set(parts)];
}

/** "a photo of a {}" -> the label in place of `{}` (appended when the template has none). */
export function fillTemplate(template: string, label: string): string {
  return template.includes('{}') ? template.replaceAll('{}', label) : `${template} ${label}`.trim();
}

/** Label probabilities per image (rows = images, columns = labels). */
export async function zeroShotScores(
  model: ClipVisionModel, images: Tensor, labels: readonly string[], template: string, ctx: Partial<Pick<NodeContext, 'signal' | 'progress'>> = {},
): Promise<Scores> {
  const t = await encodeTexts(model, labels.map((l) => fillTemplate(template, l)), ctx);
  const v = await encodeImages(model, images, 'center', ctx);
  const dim = t.dim;
  if (v.imageEmbeds.shape[1] !== dim) throw new NodeInputError('clip_vision', `image embeddings have ${v.imageEmbeds.shape[1]} dims, text embeddings ${dim}`);
  const ti = normalizeRows(t.data, dim);
  const im = normalizeRows(v.imageEmbeds.data, dim);
  const rows = im.length / dim;
  const cos = new Float32Array(rows * labels.length);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < labels.length; j++) {
      let s = 0;
      for (let i = 0; i < dim; i++) s += im[r * dim + i]! * ti[j * dim + i]!;
      cos[r * labels.length + j] = s;
    }
  }
  return { labels: [...labels], rows, values: softmaxRows(cos, labels.length, model.logitScale), kind: 'probability' };
}

/** The best label of each row. */
export function bestLabels(s: Scores): { label: string; score: number }[] {
  const out: { label: string; score: number }[] = [];
  const n = s.labels.length;
  for (let r = 0; r < s.rows; r++) {
    let best = 0;
    for (let j = 1; j < n; j++) if (s.values[r * n + j]! > s.values[r * n + best]!) best = j;
    out.push({ label: s.labels[best] ?? '', score: s.values[r * n + best] ?? 0 });
  }
  return out;
}

/** UI rows: per image, labels with their probabilities, best first (ComfyUI-style `ui` dict entries). */
export function scoreTable(s: Scores, top = s.labels.length): { image: number; label: string; score: number }[][] {
  const n = s.labels.length;
  const table: { image: number; label: string; score: number }[][] = [];
  for (let r = 0; r < s.rows; r++) {
    const row = s.labels.map((label, j) => ({ image: r, label, score: s.values[r * n + j] ?? 0 }));
    table.push(row.sort((a, b) => b.score - a.score).slice(0, top));
  }
  return table;
}

export const ZeroShotClassifier = defineNode({
  type: 'ZeroShotClassifier',
  displayName: 'Zero-Shot Classifier (CLIP)',
  category: 'clip',
  version: '1.0.0',
  description: 'Scores each image against text labels with CLIP; no training needed.',
  inputs: {
    clip_vision: CLIP_VISION,
    images: IMAGE,
    labels: STRING({ multiline: true, default: 'cat\ndog', tooltip: 'One label per line.' }),
    template: STRING({ default: 'a photo of a {}', tooltip: '{} is replaced by each label.' }),
  },
  outputs: { SCORES, label: STRING_OUT },
  outputNode: true,
  check({ labels }) {
    if (labels !== undefined && parseLabels(labels).length === 0) return 'labels: give at least one label';
    return undefined;
  },
  async run(ctx, { clip_vision, images, labels, template }) {
    const list = parseLabels(labels);
    if (list.length === 0) throw new NodeInputError('labels', 'give at least one label');
    const scores = await zeroShotScores(clip_vision, images, list, template, ctx);
    const best = bestLabels(scores);
    return {
      SCORES: scores,
      label: best.map((b) => b.label).join('\n'),
      ui: { classification: scoreTable(scores, 5), text: best.map((b) => `${b.label} (${(b.score * 100).toFixed(1)}%)`) },
    };
  },
});
