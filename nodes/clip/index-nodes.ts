/** ImageIndex (a folder of images -> a persistent CLIP embedding index) and ImageSearch (text or image queries). */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { BOOLEAN, INT, NodeInputError, STRING, containedPath, defineNode, type NodeContext, type Services } from '../../engine/index.js';
import { FOLDERS } from '../../runtime/services.js';
import { CLIP_VISION, IMAGE_INDEX, SCORES } from './sockets.js';
import { IMAGE, INT_OUT, STRING_OUT } from '../../sockets/index.js';
import { Tensor } from '../../runtime/tensor.js';
import { decodeImage } from '../../imaging/codec.js';
import { commonUpscale, toChannelsFirst, toChannelsLast } from '../../imaging/resample.js';
import { IMAGE_CHUNK, embedPixels, encodeImages, encodeTexts } from './embed.js';
import { checkIndexName, indexDir, scanImages, updateIndex, type EmbeddedFiles, type UpdateStats } from './index-store.js';
import { pixelValues } from './preprocess.js';
import { dotRows, normalizeRows, topK } from './vectors.js';
import type { ClipVisionModel, ImageIndex, Scores } from './types.js';

/** Identifies the embedding space: folder name plus the vision file's size (a re-export changes it). */
export async function modelId(model: ClipVisionModel): Promise<string> {
  const st = await stat(model.vision.path);
  return `${model.name}:${st.size}`;
}

/**
 * Decodes and embeds image files, IMAGE_CHUNK at a time; rows are L2-normalised. A file that does not
 * decode is reported with row -1 instead of failing the whole folder.
 */
export async function embedFiles(model: ClipVisionModel, files: readonly string[], ctx: Partial<Pick<NodeContext, 'signal' | 'progress' | 'log'>> = {}): Promise<EmbeddedFiles> {
  const parts: Float32Array[] = [];
  const rowOf = new Int32Array(files.length).fill(-1);
  let rows = 0;
  let dim = 0;
  for (let from = 0; from < files.length; from += IMAGE_CHUNK) {
    ctx.signal?.throwIfAborted();
    const chunk = files.slice(from, from + IMAGE_CHUNK);
    const decoded = await Promise.all(
      chunk.map(async (f) => {
        try {
          return pixelValues((await decodeImage(await readFile(f))).image, model.preprocess);
        } catch (e) {
          ctx.log?.(`skipping ${f}: not a readable image (${e instanceof Error ? e.message : String(e)})`);
          return undefined;
        }
      }),
    );
    const pixels = decoded.filter((p): p is Tensor => p !== undefined);
    decoded.forEach((p, i) => {
      if (p) rowOf[from + i] = rows++;
    });
    ctx.progress?.(Math.min(files.length, from + IMAGE_CHUNK), files.length);
    if (!pixels.length) continue;
    const per = pixels[0]!.size;
    const batch = new Float32Array(per * pixels.length);
    pixels.forEach((p, i) => batch.set(p.data, i * per));
    const out = await embedPixels(model, new Tensor('float32', batch, [pixels.length, ...pixels[0]!.shape.slice(1)]), ctx.signal);
    dim = out.imageEmbeds.shape[1] ?? 0;
    parts.push(normalizeRows(out.imageEmbeds.data, dim));
  }
  const vectors = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    vectors.set(p, o);
    o += p.length;
  }
  return { vectors, dim, rowOf };
}

function folderOf(services: Services, folder: string): string {
  return containedPath(services.get(FOLDERS).input, folder);
}

export async function indexFolder(ctx: Pick<NodeContext, 'services'> & Partial<Pick<NodeContext, 'signal' | 'progress' | 'log'>>, model: ClipVisionModel, folder: string, name: string, recursive: boolean): Promise<{ index: ImageIndex; stats: UpdateStats }> {
  const root = folderOf(ctx.services, folder);
  return updateIndex({
    name,
    dir: indexDir(ctx.services.get(FOLDERS).data, name),
    root,
    model: await modelId(model),
    recursive,
    embed: (files) => embedFiles(model, files, ctx),
    signal: ctx.signal,
  });
}

export const ImageIndexNode = defineNode({
  type: 'ImageIndex',
  displayName: 'Image Index (CLIP)',
  category: 'clip',
  version: '1.0.0',
  description: 'Embeds every image of a folder under input/ into a persistent index in data/; only new or changed files are embedded.',
  inputs: {
    clip_vision: CLIP_VISION,
    folder: STRING({ default: '', tooltip: 'A folder under input/ ("" for input/ itself).' }),
    index_name: STRING({ default: 'images', tooltip: 'Stored as data/image-index/<index_name>/.' }),
    recursive: BOOLEAN({ default: true }),
  },
  outputs: { IMAGE_INDEX, count: INT_OUT },
  outputNode: true,
  check({ index_name }) {
    if (index_name === undefined) return undefined;
    try {
      checkIndexName(index_name);
      return undefined;
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
  },
  // The folder's listing (names, sizes, times) is part of the cache key, so edits re-run the node.
  async fingerprint({ folder, recursive }, services) {
    const files = await scanImages(folderOf(services, folder), recursive);
    return createHash('sha256').update(JSON.stringify(files)).digest('hex');
  },
  async run(ctx, { clip_vision, folder, index_name, recursive }) {
    const { index, stats } = await indexFolder(ctx, clip_vision, folder, index_name, recursive);
    ctx.log(`ImageIndex ${index_name}: ${index.entries.length} images (${stats.added} embedded, ${stats.reused} reused, ${stats.removed} removed)`);
    return {
      IMAGE_INDEX: index,
      count: index.entries.length,
      ui: { text: [`${index.entries.length} images: ${stats.added} embedded, ${stats.reused} reused, ${stats.removed} removed${stats.unreadable.length ? `, ${stats.unreadable.length} unreadable skipped (${stats.unreadable.slice(0, 5).join(', ')})` : ''}`], index: [{ name: index.name, root: index.root, ...stats }] },
    };
  },
});

/** A search hit: the file (relative to the index root) and its cosine similarity to the query. */
export interface SearchHit {
  readonly file: string;
  readonly score: number;
}

/** Top-k entries of an index for a normalised query vector. */
export function searchIndex(index: ImageIndex, query: Float32Array, k: number): SearchHit[] {
  const sims = dotRows(index.vectors, index.dim, query);
  return topK(sims, k).map((i) => ({ file: index.entries[i]?.file ?? '', score: sims[i] ?? 0 }));
}

/** The normalised query: text, image, or both (sum of the normalised embeddings, renormalised). */
export async function queryVector(model: ClipVisionModel, text: string, image: Tensor | undefined, ctx: Partial<Pick<NodeContext, 'signal'>> = {}): Promise<Float32Array> {
  const parts: Float32Array[] = [];
  let dim = 0;
  if (text.trim() !== '') {
    const t = await encodeTexts(model, [text], ctx);
    dim = t.dim;
    parts.push(normalizeRows(t.data, t.dim));
  }
  if (image) {
    const v = await encodeImages(model, image, 'center', ctx);
    dim = v.imageEmbeds.shape[1] ?? 0;
    const rows = normalizeRows(v.imageEmbeds.data, dim);
    for (let r = 0; r < (image.shape[0] ?? 0); r++) parts.push(rows.subarray(r * dim, (r + 1) * dim));
  }
  if (parts.length === 0) throw new NodeInputError('query', 'give a text query or connect an image');
  const sum = new Float32Array(dim);
  for (const p of parts) {
    if (p.length !== dim) throw new NodeInputError('image', `text and image embeddings differ in size (${p.length} vs ${dim})`);
    for (let i = 0; i < dim; i++) sum[i]! += p[i]!;
  }
  return normalizeRows(sum, dim);
}

/** Loads hits as one IMAGE batch, each resized (center crop, bilinear) to the best hit's size. */
async function loadHits(root: string, hits: readonly SearchHit[]): Promise<Tensor> {
  const images = await Promise.all(hits.map(async (h) => (await decodeImage(await readFile(containedPath(root, h.file)))).image));
  const first = images[0];
  if (!first) throw new NodeInputError('index', 'no hits to load');
  const height = first.shape[1] ?? 0;
  const width = first.shape[2] ?? 0;
  const same = images.map((im) => (im.shape[1] === height && im.shape[2] === width ? im : toChannelsLast(commonUpscale(toChannelsFirst(im), width, height, 'bilinear', 'center'))));
  const per = height * width * 3;
  const out = new Float32Array(per * same.length);
  same.forEach((im, i) => out.set(im.data.subarray(0, per), i * per));
  return new Tensor('float32', out, [same.length, height, width, 3]);
}

export const ImageSearch = defineNode({
  type: 'ImageSearch',
  displayName: 'Image Search (CLIP)',
  category: 'clip',
  version: '1.0.0',
  description: 'Finds the images of an index closest to a text query, an image, or both.',
  inputs: {
    clip_vision: CLIP_VISION,
    index: IMAGE_INDEX,
    query: STRING({ multiline: true, default: '' }),
    top_k: INT({ default: 5, min: 1, max: 1000 }),
  },
  optional: { image: IMAGE },
  outputs: { IMAGE, SCORES, paths: STRING_OUT },
  outputNode: true,
  async run(ctx, { clip_vision, index, query, top_k, image }) {
    if (index.entries.length === 0) throw new NodeInputError('index', `index '${index.name}' holds no images`);
    const q = await queryVector(clip_vision, query, image, ctx);
    if (q.length !== index.dim) throw new NodeInputError('index', `index '${index.name}' has ${index.dim}-d vectors, ${clip_vision.name} makes ${q.length}-d ones`);
    const hits = searchIndex(index, q, top_k);
    const scores: Scores = { labels: hits.map((h) => h.file), rows: 1, values: Float32Array.from(hits, (h) => h.score), kind: 'similarity' };
    return {
      IMAGE: await loadHits(index.root, hits),
      SCORES: scores,
      paths: hits.map((h) => path.join(index.root, h.file)).join('\n'),
      ui: { results: hits.map((h, i) => ({ rank: i + 1, file: h.file, score: h.score })), text: hits.map((h, i) => `${i + 1}. ${h.file} ${h.score.toFixed(4)}`) },
    };
  },
});
