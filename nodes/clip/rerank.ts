/**
 * CLIP reranking: score each image of a batch against a prompt (cosine of CLIP embeddings, as in
 * DALL-E's CLIP reranking, Ramesh et al. 2021 sec. 2.5) and keep the best k, best first.
 */
import { INT, NodeInputError, STRING, defineNode, type NodeContext } from '../../engine/index.js';
import { Tensor } from '../../runtime/tensor.js';
import { CLIP_VISION, SCORES } from './sockets.js';
import { IMAGE } from '../../sockets/index.js';
import { encodeImages, encodeTexts } from './embed.js';
import { dotRows, normalizeRows, topK } from './vectors.js';
import type { ClipVisionModel, Scores } from './types.js';

/** Rows `order` of an IMAGE batch, in that order. */
export function selectRows(images: Tensor, order: readonly number[]): Tensor {
  const per = images.size / (images.shape[0] ?? 1);
  const out = new Float32Array(order.length * per);
  order.forEach((r, i) => out.set(images.data.subarray(r * per, (r + 1) * per), i * per));
  return new Tensor('float32', out, [order.length, ...images.shape.slice(1)]);
}

/** Cosine similarity of each image to the prompt, and the indices of the best `keep`, best first. */
export async function rankImages(model: ClipVisionModel, images: Tensor, prompt: string, keep: number, ctx: Partial<Pick<NodeContext, 'signal' | 'progress'>> = {}): Promise<{ order: number[]; sims: Float32Array }> {
  if (prompt.trim() === '') throw new NodeInputError('prompt', 'empty prompt: nothing to rank against');
  const t = await encodeTexts(model, [prompt], ctx);
  const v = await encodeImages(model, images, 'center', ctx);
  if (v.imageEmbeds.shape[1] !== t.dim) throw new NodeInputError('clip_vision', `image embeddings have ${v.imageEmbeds.shape[1]} dims, text embeddings ${t.dim}`);
  const sims = dotRows(normalizeRows(v.imageEmbeds.data, t.dim), t.dim, normalizeRows(t.data, t.dim));
  return { order: topK(sims, keep), sims };
}

export const CLIPRerank = defineNode({
  type: 'CLIPRerank',
  displayName: 'CLIP Rerank',
  category: 'clip',
  version: '1.0.0',
  description: 'Sorts images by how well CLIP says they match the prompt and keeps the best k.',
  inputs: {
    clip_vision: CLIP_VISION,
    images: IMAGE,
    prompt: STRING({ multiline: true, default: '' }),
    keep: INT({ default: 2, min: 1, max: 4096, tooltip: 'How many of the best images to keep.' }),
  },
  outputs: { IMAGE, SCORES },
  outputNode: true,
  async run(ctx, { clip_vision, images, prompt, keep }) {
    const { order, sims } = await rankImages(clip_vision, images, prompt, keep, ctx);
    const scores: Scores = { labels: order.map((i) => `image ${i}`), rows: 1, values: Float32Array.from(order, (i) => sims[i]!), kind: 'similarity' };
    return {
      IMAGE: selectRows(images, order),
      SCORES: scores,
      ui: { ranking: order.map((i, rank) => ({ rank: rank + 1, image: i, score: sims[i] })) },
    };
  },
});
