import { describe, it, expect, beforeAll } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseJson, readPngText } from '../../engine/index.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'latentflow.js');

async function cli(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [BIN, ...args], { cwd, timeout: 120_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

describe('latentflow run', () => {
  let base: string;
  beforeAll(async () => {
    base = await mkdtemp(path.join(tmpdir(), 'lf-cli-run-'));
  });

  it('runs LoadImage -> ImageScale -> SaveImage from workflows/ in a fresh folder; the PNG carries the prompt', async () => {
    const wfFile = path.join(ROOT, 'workflows', 'image-scale.json');
    const r = await cli(['run', wfFile], base);
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout.trim().split('\n').at(-1)!.split('  ')[0]!;
    expect(out).toBe(path.join(base, 'output', 'scaled_00001_.png'));
    const text = readPngText(await readFile(out));
    const original = parseJson(await readFile(wfFile, 'utf8'));
    expect(parseJson(text.prompt!)).toEqual(original);
    // Re-render from the PNG itself: same pixels, next counter.
    const again = await cli(['run', out], base);
    expect(again.code, again.stderr).toBe(0);
    expect(await readdir(path.join(base, 'output'))).toEqual(['scaled_00001_.png', 'scaled_00002_.png']);
  });

  it('exits 2 with every validation error, and on truncated JSON', async () => {
    const bad = path.join(base, 'bad.json');
    await writeFile(bad, JSON.stringify({
      '1': { class_type: 'LoadImage', inputs: { image: 'nope.png' } },
      '2': { class_type: 'ImageScale', inputs: { image: ['1', 0], upscale_method: 'bilinear', width: -3, height: 0, crop: 'sideways' } },
      '3': { class_type: 'SaveImage', inputs: { images: ['2', 0] } },
    }));
    const r = await cli(['run', bad], base);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/node 1 \(LoadImage\) input 'image': Value not in list/);
    expect(r.stderr).toMatch(/node 2 \(ImageScale\) input 'width': Value -3 smaller than min of 0/);
    expect(r.stderr).toMatch(/node 2 \(ImageScale\) input 'crop': Value not in list/);
    const truncated = path.join(base, 'truncated.json');
    await writeFile(truncated, '{"1": {"class_type": "LoadImage", "inputs": {"image": ');
    const t = await cli(['run', truncated], base);
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(/invalid/i);
  });

  it('exits 1 on a runtime error, naming the node', async () => {
    await writeFile(path.join(base, 'input', 'corrupt.png'), 'this is not a picture');
    const wf = path.join(base, 'fail.json');
    await writeFile(wf, JSON.stringify({
      '1': { class_type: 'LoadImage', inputs: { image: 'corrupt.png' } },
      '3': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'x' } },
    }));
    const r = await cli(['run', wf], base);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error in node 1 \(LoadImage\)/);
  });
});
