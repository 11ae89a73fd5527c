import { mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Host } from '../../../host/host.js';
import { loadClipVision } from '../../../nodes/clip/loaders.js';
import { indexFolder, queryVector, searchIndex } from '../../../nodes/clip/index-nodes.js';
import { indexDir, readIndex } from '../../../nodes/clip/index-store.js';
import type { ClipVisionModel } from '../../../nodes/clip/types.js';
import { COLOURS, SHAPES } from '../../../toyworld/world.js';
import { MODELS, batch, randomShape, rng, toyHost, writePng } from './helpers.js';

let host: Host;
let model: ClipVisionModel;
beforeAll(async () => {
  host = await toyHost();
  model = loadClipVision(path.join(MODELS, 'clip_vision/toyworld-clip'), 'toyworld-clip', host.services);
});
afterAll(() => host?.close());

describe('ImageIndex + ImageSearch on toyworld', () => {
  it('skips files that are not readable images instead of failing the folder, and retries them later', async () => {
    const dir = path.join(host.folders.input, 'mixed');
    mkdirSync(dir, { recursive: true });
    const rand = rng(3);
    await writePng(path.join(dir, 'a.png'), randomShape('red', 'circle', rand));
    await writePng(path.join(dir, 'b.png'), randomShape('green', 'ring', rand));
    writeFileSync(path.join(dir, 'broken.png'), 'not a picture');
    const { index, stats } = await indexFolder({ services: host.services }, model, 'mixed', 'mixed', true);
    expect(index.entries.map((e) => e.file)).toEqual(['a.png', 'b.png']);
    expect(stats).toMatchObject({ added: 2, unreadable: ['broken.png'] });
    const hits = searchIndex(index, await queryVector(model, 'a green ring', undefined), 1);
    expect(hits[0]!.file).toBe('b.png');
    await writePng(path.join(dir, 'broken.png'), randomShape('blue', 'cross', rand));
    const again = await indexFolder({ services: host.services }, model, 'mixed', 'mixed', true);
    expect(again.stats).toMatchObject({ added: 1, reused: 2, unreadable: [] });
  });

  it('a search for "a blue square" over 200 generated images returns blue squares first (precision@5 = 1)', async () => {
    const dir = path.join(host.folders.input, 'shapes200');
    mkdirSync(dir, { recursive: true });
    const rand = rng(7);
    const truth = new Map<string, string>();
    for (let i = 0; i < 200; i++) {
      // Every 25th image is a blue square (8 of them); the rest are drawn from all classes.
      const colour = i % 25 === 0 ? 'blue' : COLOURS[Math.floor(rand() * COLOURS.length)]!.name;
      const shape = i % 25 === 0 ? 'square' : SHAPES[Math.floor(rand() * SHAPES.length)]!;
      const file = `img${String(i).padStart(3, '0')}.png`;
      await writePng(path.join(dir, file), randomShape(colour, shape, rand));
      truth.set(file, `${colour} ${shape}`);
    }
    const { index, stats } = await indexFolder({ services: host.services }, model, 'shapes200', 'shapes200', true);
    expect(index.entries.length).toBe(200);
    expect(stats.added).toBe(200);
    const hits = searchIndex(index, await queryVector(model, 'a blue square', undefined), 5);
    expect(hits.map((h) => truth.get(h.file))).toEqual(Array(5).fill('blue square'));
    for (let i = 1; i < hits.length; i++) expect(hits[i - 1]!.score).toBeGreaterThanOrEqual(hits[i]!.score);

    // Persisted: a second pass re-embeds nothing and reads the same vectors back.
    const again = await indexFolder({ services: host.services }, model, 'shapes200', 'shapes200', true);
    expect(again.stats).toEqual({ added: 0, reused: 200, removed: 0, unreadable: [] });
    const stored = await readIndex(indexDir(host.folders.data, 'shapes200'));
    expect(stored?.vectors).toEqual(index.vectors);
  });

  it('re-embeds only new or changed files, by content hash', async () => {
    const dir = path.join(host.folders.input, 'small');
    mkdirSync(dir, { recursive: true });
    const rand = rng(11);
    for (let i = 0; i < 6; i++) await writePng(path.join(dir, `s${i}.png`), randomShape('red', 'circle', rand));
    const first = await indexFolder({ services: host.services }, model, 'small', 'small', true);
    expect(first.stats).toEqual({ added: 6, reused: 0, removed: 0, unreadable: [] });

    await writePng(path.join(dir, 's0.png'), randomShape('green', 'ring', rand)); // changed content
    await writePng(path.join(dir, 'new.png'), randomShape('yellow', 'cross', rand)); // new file
    rmSync(path.join(dir, 's5.png')); // removed
    utimesSync(path.join(dir, 's1.png'), new Date(), new Date(Date.now() + 5000)); // touched, same bytes
    const second = await indexFolder({ services: host.services }, model, 'small', 'small', true);
    expect(second.stats).toEqual({ added: 2, reused: 4, removed: 1, unreadable: [] });
    expect(second.index.entries.map((e) => e.file)).toEqual(['new.png', 's0.png', 's1.png', 's2.png', 's3.png', 's4.png']);
    const hit = searchIndex(second.index, await queryVector(model, 'a green ring', undefined), 1);
    expect(hit[0]!.file).toBe('s0.png');
    // Query by example: an image of a yellow cross finds the yellow cross.
    const byImage = searchIndex(second.index, await queryVector(model, '', batch([randomShape('yellow', 'cross', rand)])), 1);
    expect(byImage[0]!.file).toBe('new.png');
    await expect(queryVector(model, ' ', undefined)).rejects.toThrow(/text query or connect an image/);
  });

  it('refuses index names that could leave data/', () => {
    expect(() => indexDir(host.folders.data, '../x')).toThrow(/index name/);
  });
});
