import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeMatchingFiles, writeFileDurable } from '../../engine/files.js';

const root = mkdtempSync(path.join(tmpdir(), 'lf-durable-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('writeFileDurable', () => {
  it('creates missing folders and replaces an existing file whole', async () => {
    const file = path.join(root, 'a', 'b', 'out.bin');
    await writeFileDurable(file, Uint8Array.from([1, 2, 3]));
    await writeFileDurable(file, Uint8Array.from([9]));
    expect([...readFileSync(file)]).toEqual([9]);
    expect(readdirSync(path.dirname(file))).toEqual(['out.bin']);
  });

  it('removes its hidden, marked temp file when the rename fails', async () => {
    const dir = path.join(root, 'fail');
    const target = path.join(dir, 'taken');
    mkdirSync(target, { recursive: true });
    writeFileSync(path.join(target, 'keep'), 'x');
    await expect(writeFileDurable(target, Uint8Array.from([1]), 'mark-')).rejects.toThrow();
    expect(readdirSync(dir)).toEqual(['taken']);
  });

  it('names the temp file .<name>.<marker><12 hex>.partial, next to the target', async () => {
    // A name of 240 characters fits, its temp file's does not: open() fails and reports the temp path.
    const name = `${'n'.repeat(236)}.png`;
    const err: unknown = await writeFileDurable(path.join(root, name), Uint8Array.from([1]), 'mark-').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    const tmp = err instanceof Error && 'path' in err ? String(err.path) : '';
    expect(path.dirname(tmp)).toBe(root);
    expect(path.basename(tmp)).toMatch(new RegExp(`^\\.${name.replace('.', '\\.')}\\.mark-[0-9a-f]{12}\\.partial$`));
  });
});

describe('removeMatchingFiles', () => {
  it('deletes matching files down to maxDepth folders deep and returns them; others stay', async () => {
    const base = path.join(root, 'sweep');
    const deep = path.join(base, 'a', 'b');
    mkdirSync(deep, { recursive: true });
    for (const f of [path.join(base, 'x.partial'), path.join(base, 'keep.png'), path.join(base, 'a', 'y.partial'), path.join(deep, 'z.partial')]) writeFileSync(f, '');
    const removed = await removeMatchingFiles(base, /\.partial$/, 1);
    expect(removed.map((f) => path.relative(base, f)).sort()).toEqual(['a/y.partial', 'x.partial']);
    expect(readdirSync(base).sort()).toEqual(['a', 'keep.png']);
    expect(readdirSync(deep)).toEqual(['z.partial']);
    expect(await removeMatchingFiles(path.join(root, 'no-such-folder'), /./, 3)).toEqual([]);
  });
});
