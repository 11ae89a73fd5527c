/**
 * Running the CLIP towers: images -> image_embeds, texts -> text_embeds (Transformers.js exports;
 * spec/models.md "CLIP"). Both return the exports' unnormalised embeddings.
 */
import type { NodeContext } from '../../engine/index.js';
import { Tensor } from '../../runtime/tensor.js';
import { ClipModelError } from './errors.js';
import { pixelValues, type CropMode } from './preprocess.js';
import type { ClipVisionModel } from './types.js';

/** NOTE: 16 images of 224x224 are 9.6 MB of pixel values; larger chunks only grow peak memory. */
export const IMAGE_CHUNK = 16;

type RunContext = Partial<Pick<NodeContext, 'signal' | 'progress'>>;

export interface VisionEmbeddings {
  readonly imageEmbeds: Tensor;
  readonly lastHiddenState?: Tensor;
}

function floatOut(t: Tensor<'float32'> | undefined, what: string, rows: number, path: string): Tensor<'float32'> {
  if (!t || t.shape[0] !== rows) throw new ClipModelError(`${path} returned ${t ? t.describe() : 'no'} ${what} for ${rows} image(s)`);
  return t;
}

/** One vision-tower run over ready pixel values [n,3,S,S]. */
export async function embedPixels(model: ClipVisionModel, pixels: Tensor, signal?: AbortSignal, lastHidden = false): Promise<VisionEmbeddings> {
  const s = await model.vision.get();
  const n = pixels.shape[0] ?? 0;
  const feeds = { [s.inputs[0]?.name ?? 'pixel_values']: pixels };
  const groups = lastHidden ? [['image_embeds', 'embeds'], ['last_hidden_state']] : [['image_embeds', 'embeds']];
  const res = await s.run(feeds, { outputs: groups, signal });
  const e = res.image_embeds;
  const h = res.last_hidden_state;
  return {
    imageEmbeds: floatOut(e?.dtype === 'float32' ? e : undefined, 'image_embeds', n, model.vision.path),
    lastHiddenState: lastHidden && h?.dtype === 'float32' ? h : undefined,
  };
}

/** Image embeddings [B,P] of an IMAGE batch, in chunks; `lastHidden` also collects last_hidden_state. */
export async function encodeImages(model: ClipVisionModel, images: Tensor, mode: CropMode, ctx: RunContext = {}, lastHidden = false): Promise<VisionEmbeddings> {
  const s = await model.vision.get();
  const b = images.shape[0] ?? 0;
  const hasHidden = lastHidden && s.outputs.some((o) => o.name === 'last_hidden_state');
  if (b === 0) throw new ClipModelError('no images to encode');
  const embeds: Float32Array[] = [];
  const hidden: Float32Array[] = [];
  let dim = 0;
  let hiddenShape: readonly number[] = [];
  for (let from = 0; from < b; from += IMAGE_CHUNK) {
    ctx.signal?.throwIfAborted();
    const to = Math.min(b, from + IMAGE_CHUNK);
    const pixels = pixelValues(images, model.preprocess, mode, from, to);
    const out = await embedPixels(model, pixels, ctx.signal, hasHidden);
    dim = out.imageEmbeds.shape[1] ?? 0;
    embeds.push(out.imageEmbeds.data);
    if (out.lastHiddenState) {
      hidden.push(out.lastHiddenState.data);
      hiddenShape = out.lastHiddenState.shape.slice(1);
    }
    ctx.progress?.(to, b);
  }
  const cat = (parts: Float32Array[]): Float32Array => {
    const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) all.set(p, (o += p.length) - p.length);
    return all;
  };
  return {
    imageEmbeds: new Tensor('float32', cat(embeds), [b, dim]),
    lastHiddenState: hidden.length ? new Tensor('float32', cat(hidden), [b, ...hiddenShape]) : undefined,
  };
}

/** Text embeddings (rows x P, unnormalised) of texts, padded to the longest as Transformers.js does. */
export async function encodeTexts(model: ClipVisionModel, texts: readonly string[], ctx: RunContext = {}): Promise<{ data: Float32Array; dim: number }> {
  const tower = model.text;
  if (!tower) throw new ClipModelError(`${model.name} has no text tower (onnx/text_model.onnx)`);
  // NOTE: a bounded memo; zero-shot label sets are small, queries are many and rarely repeat.
  if (model.textCache.size > 4096) model.textCache.clear();
  const found = new Map<string, Float32Array>();
  for (const t of texts) {
    const v = model.textCache.get(t);
    if (v) found.set(t, v);
  }
  const missing = [...new Set(texts.filter((t) => !found.has(t)))];
  if (missing.length) {
    // Pad to the longest text, as Transformers.js pipelines do (padding: true); pads follow EOS, which pools.
    const rows = missing.map((t) => tower.tokenizer.tokenize(t));
    const len = Math.max(...rows.map((r) => r.length));
    const ids = new Tensor('int64', BigInt64Array.from(rows.flatMap((r) => r.ids.slice(0, len)), (v) => BigInt(v)), [missing.length, len]);
    const mask = new Tensor('int64', BigInt64Array.from(rows.flatMap((r) => r.attentionMask.slice(0, len)), (v) => BigInt(v)), [missing.length, len]);
    const s = await tower.session.get();
    const feeds: Record<string, Tensor<'int64'>> = {};
    for (const m of s.inputs) feeds[m.name] = m.name === 'attention_mask' ? mask : ids;
    const res = await s.run(feeds, { outputs: [['text_embeds', 'pooler_output']], signal: ctx.signal });
    const e = res.text_embeds;
    const out = floatOut(e?.dtype === 'float32' ? e : undefined, 'text_embeds', missing.length, tower.session.path);
    const dim = out.shape[1] ?? 0;
    missing.forEach((t, i) => {
      const v = out.data.slice(i * dim, (i + 1) * dim);
      found.set(t, v);
      model.textCache.set(t, v);
    });
  }
  const dim = found.get(texts[0] ?? '')?.length ?? 0;
  const data = new Float32Array(texts.length * dim);
  texts.forEach((t, i) => data.set(found.get(t) ?? new Float32Array(dim), i * dim));
  return { data, dim };
}
