import { describe, it, expect } from 'vitest';
import { appendFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Manifest, type JobRecord } from '../../../cli/batch/manifest.js';

function rec(id: string, status: JobRecord['status'], outputs: JobRecord['outputs'] = []): JobRecord {
  return { id, index: 0, source: `row ${id}`, overrides: { seed: 18446744073709551615n }, seed: 18446744073709551615n, status, outputs };
}

describe('Manifest', () => {
  it('round-trips records with exact big seeds and verifies outputs by sha256', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'lf-manifest-'));
    const bytes = Buffer.from('png bytes');
    await writeFile(path.join(dir, 'a.png'), bytes);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const m = await Manifest.open(dir);
    await m.append(rec('a', 'done', [{ node: '9', file: 'a.png', sha256, bytes: bytes.length }]));
    await m.append(rec('b', 'failed'));
    const again = await Manifest.open(dir);
    expect(again.get('a')!.seed).toBe(18446744073709551615n);
    expect(await again.isComplete('a')).toBe(true);
    expect(await again.isComplete('b')).toBe(false);
    await writeFile(path.join(dir, 'a.png'), 'changed');
    expect(await again.isComplete('a')).toBe(false);
  });

  it('skips a torn last line (a kill during an append) and starts the next record on a new line', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'lf-manifest-'));
    const m = await Manifest.open(dir);
    await m.append(rec('a', 'done'));
    await appendFile(m.file, '{"id":"b","sta');
    const torn = await Manifest.open(dir);
    expect(torn.skippedLines).toEqual([2]);
    expect(torn.all().map((r) => r.id)).toEqual(['a']);
    await torn.append(rec('c', 'done'));
    const after = await Manifest.open(dir);
    expect(after.all().map((r) => r.id)).toEqual(['a', 'c']);
  });

  it('compacts to one line per job: the batch order first, then jobs of other batches', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'lf-manifest-'));
    const m = await Manifest.open(dir);
    await m.append(rec('old', 'done'));
    await m.append(rec('y', 'failed'));
    await m.append(rec('x', 'done'));
    await m.append(rec('y', 'done'));
    m.put(rec('z', 'pending'));
    await m.compact(['x', 'y', 'z']);
    const lines = (await readFile(m.file, 'utf8')).trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).id)).toEqual(['x', 'y', 'z', 'old']);
    expect(JSON.parse(lines[1]!).status).toBe('done');
    expect(lines[0]).toContain('"seed":18446744073709551615');
  });
});
