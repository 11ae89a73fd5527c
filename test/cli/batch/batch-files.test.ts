import { describe, it, expect } from 'vitest';
import { mkdtemp, readdir, readFile, writeFile, mkdir } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { batchFiles } from '../../../cli/batch/batch-files.js';

async function dirs() {
  const base = await mkdtemp(path.join(tmpdir(), 'lf-files-'));
  return { input: path.join(base, 'input'), output: path.join(base, 'output'), temp: path.join(base, 'temp') };
}

describe('batchFiles', () => {
  it('names files after the job and node, counting on across calls of one node', async () => {
    const d = await dirs();
    const files = batchFiles(d);
    const { value } = await files.runAs('00ff00ff00ff00ff', async () => {
      const a = await files.reserve({ type: 'output', prefix: 'sub/pic', extension: 'png', count: 2, nodeId: '9' });
      const b = await files.reserve({ type: 'output', prefix: 'sub/pic', extension: 'png', count: 1, nodeId: '9' });
      const c = await files.reserve({ type: 'temp', prefix: 'x', extension: 'png', count: 1, nodeId: '5:3' });
      return [...a, ...b, ...c];
    });
    expect(value.map((f) => f.filename)).toEqual(['pic_00ff00ff00ff00ff_9_00.png', 'pic_00ff00ff00ff00ff_9_01.png', 'pic_00ff00ff00ff00ff_9_02.png', 'x_00ff00ff00ff00ff_5-3_00.png']);
    expect(value[0]!.path).toBe(path.join(d.output, 'sub', 'pic_00ff00ff00ff00ff_9_00.png'));
    expect(value[0]!.subfolder).toBe('sub');
    expect(value[3]!.path.startsWith(d.temp)).toBe(true);
  });

  it('drops %date% tokens (names must not depend on the day), refuses escapes, counts outside jobs', async () => {
    const d = await dirs();
    const files = batchFiles(d);
    const { value } = await files.runAs('j', () => files.reserve({ type: 'output', prefix: '%date:yyyy-MM-dd%/p', extension: 'png', count: 1, nodeId: '1' }));
    expect(value[0]!.filename).toBe('p_j_1_00.png');
    expect(value[0]!.subfolder).toBe('');
    await expect(files.runAs('j', () => files.reserve({ type: 'output', prefix: '../../etc/p', extension: 'png', count: 1, nodeId: '1' }))).rejects.toThrow(/outside/);
    const outside = await files.reserve({ type: 'output', prefix: 'p', extension: 'png', count: 1, nodeId: '1' });
    expect(outside[0]!.filename).toBe('p_00001_.png');
  });

  it('writes whole files and records their sha256 for the job that wrote them', async () => {
    const d = await dirs();
    const files = batchFiles(d);
    const data = new Uint8Array([1, 2, 3, 4]);
    const { written } = await files.runAs('j1', async () => {
      const [f] = await files.reserve({ type: 'output', prefix: 'p', extension: 'bin', count: 1, nodeId: '7' });
      await files.writeAtomic(f!.path, data);
    });
    expect(written).toEqual([
      { path: path.join(d.output, 'p_j1_7_00.bin'), type: 'output', nodeId: '7', sha256: createHash('sha256').update(data).digest('hex'), bytes: 4 },
    ]);
    expect(await readFile(written[0]!.path)).toEqual(Buffer.from(data));
    expect((await readdir(d.output)).filter((f) => f.endsWith('.partial'))).toEqual([]);
  });

  it('removes only its own stale temp files', async () => {
    const d = await dirs();
    await mkdir(path.join(d.output, 'sub'), { recursive: true });
    await writeFile(path.join(d.output, 'sub', '.p_j_1_00.png.lfbatch-0123456789ab.partial'), 'torn');
    await writeFile(path.join(d.output, 'other.partial'), 'not ours');
    const files = batchFiles(d);
    expect((await files.removeStalePartials()).map((f) => path.basename(f))).toEqual(['.p_j_1_00.png.lfbatch-0123456789ab.partial']);
    expect((await readdir(path.join(d.output, 'sub')))).toEqual([]);
    expect(await readdir(d.output)).toContain('other.partial');
  });
});
