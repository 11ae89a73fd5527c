import { describe, it, expect } from 'vitest';
import { mkdtemp, readdir, readFile, writeFile, mkdir } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { batchJobFiles, promptFiles, promptTag, removeStalePartials } from '../../host/job-files.js';

async function dirs() {
  const base = await mkdtemp(path.join(tmpdir(), 'lf-files-'));
  return { input: path.join(base, 'input'), output: path.join(base, 'output'), temp: path.join(base, 'temp') };
}

describe('batchJobFiles', () => {
  it('names files after the job and node, counting on across calls of one node', async () => {
    const d = await dirs();
    const files = batchJobFiles(d, '00ff00ff00ff00ff');
    const a = await files.reserve({ type: 'output', prefix: 'sub/pic', extension: 'png', count: 2, nodeId: '9' });
    const b = await files.reserve({ type: 'output', prefix: 'sub/pic', extension: 'png', count: 1, nodeId: '9' });
    const c = await files.reserve({ type: 'temp', prefix: 'x', extension: 'png', count: 1, nodeId: '5:3' });
    const value = [...a, ...b, ...c];
    expect(value.map((f) => f.filename)).toEqual(['pic_00ff00ff00ff00ff_9_00.png', 'pic_00ff00ff00ff00ff_9_01.png', 'pic_00ff00ff00ff00ff_9_02.png', 'x_00ff00ff00ff00ff_5-3_00.png']);
    expect(value[0]!.path).toBe(path.join(d.output, 'sub', 'pic_00ff00ff00ff00ff_9_00.png'));
    expect(value[0]!.subfolder).toBe('sub');
    expect(value[3]!.path.startsWith(d.temp)).toBe(true);
  });

  it('drops %date% tokens (names must not depend on the day) and refuses escapes', async () => {
    const d = await dirs();
    const files = batchJobFiles(d, 'j');
    const value = await files.reserve({ type: 'output', prefix: '%date:yyyy-MM-dd%/p', extension: 'png', count: 1, nodeId: '1' });
    expect(value[0]!.filename).toBe('p_j_1_00.png');
    expect(value[0]!.subfolder).toBe('');
    await expect(files.reserve({ type: 'output', prefix: '../../etc/p', extension: 'png', count: 1, nodeId: '1' })).rejects.toThrow(/outside/);
  });

  it('writes whole files and records their sha256', async () => {
    const d = await dirs();
    const files = batchJobFiles(d, 'j1');
    const data = new Uint8Array([1, 2, 3, 4]);
    const [f] = await files.reserve({ type: 'output', prefix: 'p', extension: 'bin', count: 1, nodeId: '7' });
    await files.writeAtomic(f!.path, data);
    expect(files.written).toEqual([
      { path: path.join(d.output, 'p_j1_7_00.bin'), type: 'output', nodeId: '7', sha256: createHash('sha256').update(data).digest('hex'), bytes: 4 },
    ]);
    expect(await readFile(files.written[0]!.path)).toEqual(Buffer.from(data));
    expect((await readdir(d.output)).filter((n) => n.endsWith('.partial'))).toEqual([]);
  });

  it('keeps two jobs apart: each names and records only its own files', async () => {
    const d = await dirs();
    const [a, b] = [batchJobFiles(d, 'ja'), batchJobFiles(d, 'jb')];
    const [fa] = await a.reserve({ type: 'output', prefix: 'p', extension: 'bin', count: 1, nodeId: '1' });
    const [fb] = await b.reserve({ type: 'output', prefix: 'p', extension: 'bin', count: 1, nodeId: '1' });
    await Promise.all([a.writeAtomic(fa!.path, new Uint8Array([1])), b.writeAtomic(fb!.path, new Uint8Array([2]))]);
    expect(a.written.map((w) => path.basename(w.path))).toEqual(['p_ja_1_00.bin']);
    expect(b.written.map((w) => path.basename(w.path))).toEqual(['p_jb_1_00.bin']);
  });
});

describe('promptFiles', () => {
  it("names files after the prompt's tag and node, ComfyUI-style counters per node and prefix", async () => {
    const d = await dirs();
    const files = promptFiles(d, 'prompt-1');
    const tag = promptTag('prompt-1');
    const a = await files.reserve({ type: 'output', prefix: 'shots/cat', extension: 'png', count: 2, nodeId: '9' });
    const b = await files.reserve({ type: 'output', prefix: 'shots/cat', extension: 'png', count: 1, nodeId: '9' });
    expect([...a, ...b].map((f) => f.filename)).toEqual([`cat_${tag}-9_00001_.png`, `cat_${tag}-9_00002_.png`, `cat_${tag}-9_00003_.png`]);
    expect(a[0]!.subfolder).toBe('shots');
    expect(tag).toMatch(/^[0-9a-f]{10}$/);
  });
});

describe('removeStalePartials', () => {
  it('removes the temp files killed jobs left, and nothing else', async () => {
    const d = await dirs();
    await mkdir(path.join(d.output, 'sub'), { recursive: true });
    await writeFile(path.join(d.output, 'sub', '.p_j_1_00.png.lfjob-0123456789ab.partial'), 'torn');
    await writeFile(path.join(d.output, '.p_j_1_00.png.lfbatch-0123456789ab.partial'), 'torn, older marker');
    await writeFile(path.join(d.output, 'other.partial'), 'not ours');
    const removed = (await removeStalePartials(d)).map((f) => path.basename(f)).sort();
    expect(removed).toEqual(['.p_j_1_00.png.lfbatch-0123456789ab.partial', '.p_j_1_00.png.lfjob-0123456789ab.partial']);
    expect(await readdir(path.join(d.output, 'sub'))).toEqual([]);
    expect(await readdir(d.output)).toContain('other.partial');
  });
});
