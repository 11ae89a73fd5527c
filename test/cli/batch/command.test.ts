import { describe, it, expect } from 'vitest';
import { readdir, readFile, writeFile, rm } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { Writable } from 'node:stream';
import sharp from 'sharp';
import { parseJson, readPngText } from '../../../engine/index.js';
import { canonicalJson } from '../../../cli/batch/job-id.js';
import { batchCommand, type BatchFlags } from '../../../cli/batch/command.js';
import { makeBase, runCli } from './helpers.js';

interface Line {
  id: string;
  status: string;
  outputs: { node: string; file: string; sha256: string }[];
}

async function manifestOf(dir: string): Promise<Line[]> {
  const text = await readFile(path.join(dir, 'manifest.jsonl'), 'utf8');
  return text.trim().split('\n').map((l) => JSON.parse(l) as Line);
}

async function listAll(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(path.relative(dir, path.join(e.parentPath, e.name)));
  return out.sort();
}

async function pixels(file: string): Promise<Buffer> {
  return sharp(file).raw().toBuffer();
}

/** 800x800 lanczos: ~0.2 s per job, slow enough to interrupt a batch in its middle. */
const JOBS = 8;
const SLOW = ['--set', '2.height=800', '--set', '2.upscale_method=lanczos', '--sweep', `Scale.width=800..${800 + JOBS - 1}`, '--json'];

describe('latentflow run --batch / --sweep', () => {
  it('runs every row x sweep point, names outputs by job, embeds the resolved workflow, and skips on re-run', async () => {
    const base = await makeBase();
    await writeFile(path.join(base, 'rows.jsonl'), '{"Scale.width": 16, "2.height": 12}\n{"2.width": 24}\n');
    const args = ['run', 'wf.json', '--batch', 'rows.jsonl', '--sweep', '2.upscale_method=bilinear,nearest-exact', '--jobs', '2', '--output', 'out'];
    const first = await runCli(args, base);
    expect(first.stderr).toContain('4 jobs: 4 done now');
    expect(first.code).toBe(0);
    const out = path.join(base, 'out');
    const records = await manifestOf(out);
    expect(records).toHaveLength(4);
    for (const r of records) {
      expect(r.status).toBe('done');
      expect(r.outputs).toHaveLength(1);
      expect(r.outputs[0]!.file).toBe(`scaled/img_${r.id}_3_00.png`);
      const png = await readFile(path.join(out, r.outputs[0]!.file));
      expect(createHash('sha256').update(png).digest('hex')).toBe(r.outputs[0]!.sha256);
    }
    // The PNG carries the job's resolved workflow: row 2 x nearest-exact.
    const r3 = records[3]!;
    const prompt = parseJson(readPngText(await readFile(path.join(out, r3.outputs[0]!.file))).prompt!);
    expect(canonicalJson(prompt)).toContain('"upscale_method":"nearest-exact","width":24}');
    expect((await sharp(path.join(out, r3.outputs[0]!.file)).metadata()).width).toBe(24);

    // Any output re-renders from its own PNG to the same pixels.
    const rerender = await runCli(['run', path.join(out, r3.outputs[0]!.file), '--output', 'again'], base);
    expect(rerender.code).toBe(0);
    const again = await listAll(path.join(base, 'again'));
    expect(again).toHaveLength(1);
    expect(await pixels(path.join(base, 'again', again[0]!))).toEqual(await pixels(path.join(out, r3.outputs[0]!.file)));

    // Re-run: everything verified and skipped; a deleted output is made again under the same name.
    await rm(path.join(out, records[1]!.outputs[0]!.file));
    const second = await runCli([...args, '--json'], base);
    expect(second.code).toBe(0);
    const events = second.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; job?: string; data: { job?: string } });
    expect(events.filter((e) => e.type === 'job_skipped').map((e) => e.data.job).sort()).toEqual([records[0]!.id, records[2]!.id, records[3]!.id].sort());
    expect(events.filter((e) => e.type === 'job_start').map((e) => e.data.job)).toEqual([records[1]!.id]);
    expect(events.some((e) => e.type === 'execution_success' && e.job === records[1]!.id)).toBe(true);
    expect(await listAll(out)).toEqual(['manifest.jsonl', ...records.map((r) => r.outputs[0]!.file)].sort());
    expect((await manifestOf(out)).map((r) => r.outputs[0]!.sha256)).toEqual(records.map((r) => r.outputs[0]!.sha256));
  });

  it('exits 2 naming every bad row, before running any job', async () => {
    const base = await makeBase();
    await writeFile(path.join(base, 'rows.csv'), 'Scale.width,2.height\n16,12\n-5,12\n16,banana\n');
    const run = async (flags: Partial<BatchFlags>) => {
      let stderr = '';
      const sink = new Writable({ write: (c: Buffer, _e, cb) => ((stderr += c), cb()) });
      const code = await batchCommand(path.join(base, 'wf.json'), { set: [], sweep: [], baseDir: base, output: path.join(base, 'out'), ...flags }, { stdout: sink, stderr: sink });
      return { code, stderr };
    };
    const r = await run({ batch: path.join(base, 'rows.csv') });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("rows.csv row 2 (line 3): node 2 (ImageScale) input 'width': Value -5 smaller than min of 0");
    expect(r.stderr).toMatch(/rows\.csv row 3 \(line 4\): node 2 \(ImageScale\) input 'height'/);
    expect(r.stderr).not.toContain('row 1 ');
    expect(await listAll(path.join(base, 'out')).catch(() => [])).toEqual([]);
    const sweep = await run({ sweep: ['seed=1..3'] });
    expect(sweep.code).toBe(2);
    expect(sweep.stderr).toContain("'seed': no node has a constant input 'seed'");
  });

  for (const signal of ['SIGINT', 'SIGKILL'] as const) {
    it(`completes a batch killed with ${signal} on re-run, with no duplicates and no torn files`, async () => {
      const base = await makeBase();
      const args = ['run', 'wf.json', ...SLOW, '--output', 'out'];
      let ends = 0;
      const killed = await runCli(args, base, (line) => (line.includes('"type":"job_end"') && ++ends === 1 ? signal : undefined));
      const out = path.join(base, 'out');
      if (signal === 'SIGINT') {
        expect(killed.code).toBe(130);
        const m = await manifestOf(out);
        expect(m).toHaveLength(JOBS);
        expect(m.filter((r) => r.status === 'done').length).toBeGreaterThanOrEqual(1);
        expect(m.filter((r) => r.status !== 'done').length).toBeGreaterThan(0);
      } else {
        expect(killed.signal).toBe('SIGKILL');
        // What a kill inside writeAtomic leaves: a temp file, never a half-written output name.
        await writeFile(path.join(out, 'scaled', '.img_x_3_00.png.lfbatch-0123456789ab.partial'), 'torn');
      }
      const doneBefore = (await readdir(path.join(out, 'scaled'))).filter((f) => f.endsWith('.png')).length;
      expect(doneBefore).toBeLessThan(JOBS);
      const resumed = await runCli(args, base);
      expect(resumed.code).toBe(0);
      const m = await manifestOf(out);
      expect(m).toHaveLength(JOBS);
      expect(new Set(m.map((r) => r.id)).size).toBe(JOBS);
      expect(m.every((r) => r.status === 'done')).toBe(true);
      const files = await listAll(out);
      expect(files).toEqual(['manifest.jsonl', ...m.map((r) => r.outputs[0]!.file)].sort());
      for (const r of m) expect(createHash('sha256').update(await readFile(path.join(out, r.outputs[0]!.file))).digest('hex')).toBe(r.outputs[0]!.sha256);
      const started = resumed.stdout.split('\n').filter((l) => l.includes('"type":"job_start"')).length;
      expect(started).toBeLessThanOrEqual(JOBS - 1);
    });
  }
});
