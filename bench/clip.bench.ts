/**
 * CLIP throughput and retrieval latency on toyworld: images embedded per second (decode excluded,
 * preprocessing included), and query latency over a 10,000-vector index (target under 20 ms), both
 * for the search alone and with the text query embedded first.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { createHost } from '../host/host.js';
import { encodeImages } from '../nodes/clip/embed.js';
import { loadClipVision } from '../nodes/clip/loaders.js';
import { queryVector, searchIndex } from '../nodes/clip/index-nodes.js';
import { normalizeRows } from '../nodes/clip/vectors.js';
import type { ImageIndex } from '../nodes/clip/types.js';
import { Tensor } from '../runtime/tensor.js';
import { generateToyworld } from '../toyworld/generate.js';
import { COLOURS, SHAPES, renderShape } from '../toyworld/world.js';

const ROOT = path.resolve(import.meta.dirname, '..');

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
}

function images(n: number, size: number): Tensor {
  const data = new Float32Array(n * size * size * 3);
  for (let i = 0; i < n; i++) {
    const im = renderShape({ colour: COLOURS[i % COLOURS.length]!.name, shape: SHAPES[i % SHAPES.length]!, cx: 0.3 + 0.4 * ((i * 7) % 10) / 10, cy: 0.5, size: 0.3 + 0.02 * (i % 10), width: size, height: size });
    data.set(im.data, i * size * size * 3);
  }
  return new Tensor('float32', data, [n, size, size, 3]);
}

/** 10,000 unit vectors: real image embeddings of 40 classes plus small per-row noise. */
function bigIndex(seeds: Float32Array, dim: number, rows: number): ImageIndex {
  const vectors = new Float32Array(rows * dim);
  let s = 12345;
  const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32 - 0.5);
  const classes = seeds.length / dim;
  for (let r = 0; r < rows; r++) for (let i = 0; i < dim; i++) vectors[r * dim + i] = seeds[(r % classes) * dim + i]! + 0.05 * rand();
  const entries = Array.from({ length: rows }, (_, r) => ({ file: `img${r}.png`, hash: String(r), size: 0, mtimeMs: 0 }));
  return { name: 'bench', root: '/', model: 'toyworld-clip', dim, entries, vectors: normalizeRows(vectors, dim) };
}

export default async function (): Promise<void> {
  const models = path.join(ROOT, 'models');
  await generateToyworld(models, { ifMissing: true });
  const base = mkdtempSync(path.join(tmpdir(), 'lf-clip-bench-'));
  const host = await createHost({ baseDir: base, modelsDir: models });
  try {
    const model = loadClipVision(path.join(models, 'clip_vision/toyworld-clip'), 'toyworld-clip', host.services);
    await encodeImages(model, images(2, 256), 'center');
    const batch = images(48, 256);
    const t0 = performance.now();
    const v = await encodeImages(model, batch, 'center');
    const secs = (performance.now() - t0) / 1000;
    console.log(`embed: ${(48 / secs).toFixed(1)} images/s (48 images of 256x256, chunks of 16, preprocessing included)`);

    const dim = v.imageEmbeds.shape[1]!;
    const index = bigIndex(normalizeRows(v.imageEmbeds.data.slice(0, 40 * dim), dim), dim, 10_000);
    const q = await queryVector(model, 'a blue square', undefined);
    for (let i = 0; i < 20; i++) searchIndex(index, q, 5);
    const searchMs: number[] = [];
    for (let i = 0; i < 100; i++) {
      const t = performance.now();
      searchIndex(index, q, 5);
      searchMs.push(performance.now() - t);
    }
    const endToEnd: number[] = [];
    for (let i = 0; i < 30; i++) {
      // A different text each time, so the text-embedding memo never answers.
      const text = `a ${COLOURS[i % COLOURS.length]!.name} ${SHAPES[i % SHAPES.length]!} ${'on the background '.repeat(1 + (i % 3))}${i}`;
      model.textCache.clear();
      const t = performance.now();
      searchIndex(index, await queryVector(model, text, undefined), 5);
      endToEnd.push(performance.now() - t);
    }
    const p50 = percentile(searchMs, 0.5), p95 = percentile(searchMs, 0.95);
    console.log(`search over 10,000 x ${dim} vectors, top 5: median ${p50.toFixed(2)} ms, p95 ${p95.toFixed(2)} ms (target < 20 ms) ${p95 < 20 ? 'OK' : 'SLOW'}`);
    console.log(`(1-minute load average during the run: ${loadavg()[0]!.toFixed(1)}; the targets assume an otherwise idle machine)`);
    console.log(`text query end to end (tokenize + text tower + search): median ${percentile(endToEnd, 0.5).toFixed(2)} ms, p95 ${percentile(endToEnd, 0.95).toFixed(2)} ms`);
  } finally {
    await host.close();
    rmSync(base, { recursive: true, force: true });
  }
}
