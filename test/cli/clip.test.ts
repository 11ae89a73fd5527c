import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { classifyCommand, defaultIndexName, indexCommand, resolveIndex, searchCommand, type CliIo } from '../../cli/commands/clip.js';
import { tempDir } from '../fixtures/temp-dir.js';
import { repoToyworld } from '../fixtures/toyworld.js';
import { MODELS, REPO, randomShape, rng, writePng } from '../nodes/clip/helpers.js';

function capture(): CliIo & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (l) => lines.push(l), err: (l) => errors.push(l) };
}

let base: string;
let imgs: string;
beforeAll(async () => {
  await repoToyworld();
  base = tempDir('lf-clip-cli-');
  imgs = path.join(base, 'my pictures');
  mkdirSync(imgs, { recursive: true });
  const rand = rng(21);
  const classes = [['red', 'circle'], ['blue', 'square'], ['green', 'ring'], ['yellow', 'triangle']] as const;
  for (let i = 0; i < 8; i++) {
    const [c, s] = classes[i % classes.length]!;
    await writePng(path.join(imgs, `${c}-${s}-${i}.png`), randomShape(c, s, rand, 150, 110));
  }
});

const hostFlags = () => ({ baseDir: base, modelsDir: MODELS });

describe('latentflow classify / index / search', () => {
  it('classify: zero-shot over --labels and the generic classifier, per image', async () => {
    const io = capture();
    const files = [path.join(imgs, 'green-ring-2.png'), path.join(imgs, 'red-circle-0.png')];
    const code = await classifyCommand(files, { ...hostFlags(), labels: 'red circle, green ring,blue square', template: 'a photo of a {}', classifier: 'toyworld-shapes', top: 2, json: true }, io);
    expect(io.errors).toEqual([]);
    expect(code).toBe(0);
    const rows = io.lines.map((l) => JSON.parse(l));
    expect(rows.map((r) => r.image)).toEqual(files);
    expect(rows.map((r) => r.zero_shot[0].label)).toEqual(['green ring', 'red circle']);
    expect(rows.map((r) => r.classifier[0].label)).toEqual(['green ring', 'red circle']);
    expect(rows[0].zero_shot).toHaveLength(2);
  });

  it('classify: asks for labels or a classifier, and names missing files', async () => {
    const io = capture();
    expect(await classifyCommand([path.join(imgs, 'red-circle-0.png')], { ...hostFlags(), template: 'a photo of a {}', top: 3 }, io)).toBe(2);
    expect(io.errors[0]).toMatch(/--labels/);
    const io2 = capture();
    expect(await classifyCommand([path.join(imgs, 'nope.png')], { ...hostFlags(), labels: 'a,b', template: '{}', top: 3 }, io2)).toBe(2);
    expect(io2.errors[0]).toMatch(/no such image/);
  });

  it('index then search: blue squares first; a second index run embeds nothing', async () => {
    const io = capture();
    expect(await indexCommand(imgs, { ...hostFlags(), recursive: true, json: true }, io)).toBe(0);
    const first = JSON.parse(io.lines[0]!);
    expect(first).toMatchObject({ index: 'my-pictures', added: 8, reused: 0, removed: 0 });

    const io2 = capture();
    expect(await indexCommand(imgs, { ...hostFlags(), recursive: true, json: true }, io2)).toBe(0);
    expect(JSON.parse(io2.lines[0]!)).toMatchObject({ added: 0, reused: 8 });

    for (const target of ['my-pictures', imgs, first.path]) {
      const io3 = capture();
      expect(await searchCommand(target, 'a blue square', { ...hostFlags(), top: 2 }, io3)).toBe(0);
      expect(io3.errors).toEqual([]);
      expect(io3.lines).toHaveLength(2);
      for (const l of io3.lines) expect(l).toMatch(/^\s+\d\. \d\.\d{4} {2}.*blue-square-\d\.png$/);
    }
  });

  it('search: explains a missing index', async () => {
    const io = capture();
    expect(await searchCommand('never-built', 'a red circle', { ...hostFlags(), top: 5 }, io)).toBe(2);
    expect(io.errors[0]).toMatch(/latentflow index/);
  });

  it('index names come from folder names', () => {
    expect(defaultIndexName('/x/my pictures')).toBe('my-pictures');
    expect(defaultIndexName('/x/..hidden')).toBe('hidden');
    expect(resolveIndex('abc', '/d')).toEqual({ name: 'abc', dataDir: '/d' });
    expect(() => resolveIndex('../x', '/d')).toThrow(/index name/);
  });

  it('is registered on the latentflow command line', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(REPO, 'bin/latentflow.js'), '--help'], { cwd: base });
    for (const cmd of ['classify', 'index', 'search']) expect(stdout).toMatch(new RegExp(`\\n\\s+${cmd} `));
  });
});
