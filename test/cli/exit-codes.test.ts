import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from '../fixtures/temp-dir.js';
import { bombPng } from '../fixtures/png-bytes.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'latentflow.js');

async function cli(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [BIN, ...args], { cwd, timeout: 60_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

describe('exit codes: 2 = invalid input (README), 1 = runtime error', () => {
  it('exits 2 with a clear message for invalid command lines and workflow files, before loading models', { timeout: 240_000 }, async () => {
    const base = tempDir('lf-exit-');
    const wf = path.join(base, 'wf.json');
    writeFileSync(wf, JSON.stringify({ '1': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: 0 } } }));
    const cases: [string[], RegExp][] = [
      [['run', 'missing.json', '--base-dir', base], /cannot read workflow 'missing\.json': no such file/],
      [['run', base, '--base-dir', base], /is a directory/],
      [['validate', 'missing.json', '--base-dir', base], /cannot read workflow 'missing\.json': no such file/],
      [['validate', base, '--base-dir', base], /is a directory/],
      [['run', wf, '--jobs', '0', '--base-dir', base], /--jobs.*expected a whole number >= 1/],
      [['run'], /missing required argument 'workflow'/],
      [['validate'], /missing required argument/],
      [['run', wf, '--no-such-flag'], /unknown option '--no-such-flag'/],
      [['run', wf, '--device', 'gpu'], /unknown device 'gpu': expected one of cpu, webgpu, cuda, dml, coreml, auto/],
      [['serve', '--device', 'webgpu:2'], /webgpu takes no index/],
      [['frobnicate'], /unknown command 'frobnicate'/],
    ];
    // Sequential: each case starts a Node process (the machine has 2 cores and others run tests too).
    for (const [args, message] of cases) {
      const r = await cli(args, base);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
    // Nothing was generated for a file that does not exist.
    expect(existsSync(path.join(base, 'models'))).toBe(false);
  });

  it('exits 1 naming the device and why when the asked-for provider cannot run here', { timeout: 120_000 }, async () => {
    const base = tempDir('lf-exit-device-');
    mkdirSync(path.join(base, 'models'));
    const wf = path.join(base, 'wf.json');
    writeFileSync(wf, JSON.stringify({ '1': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: 0 } }, '2': { class_type: 'PreviewImage', inputs: { images: ['1', 0] } } }));
    const other = process.platform === 'win32' ? 'coreml' : 'dml';
    const r = await cli(['run', wf, '--device', other, '--base-dir', base], base);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`device ${other} is not available: .* only`));
  });

  it('keeps 1 for a runtime error: LoadImage of an image above the pixel limit', { timeout: 120_000 }, async () => {
    const base = tempDir('lf-exit-runtime-');
    mkdirSync(path.join(base, 'models'));
    mkdirSync(path.join(base, 'input'));
    writeFileSync(path.join(base, 'input', 'bomb.png'), bombPng(16000, 16000));
    const wf = path.join(base, 'wf.json');
    writeFileSync(wf, JSON.stringify({ '1': { class_type: 'LoadImage', inputs: { image: 'bomb.png' } }, '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'x' } } }));
    const r = await cli(['run', wf, '--base-dir', base], base);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/16000x16000 = 256,000,000 pixels, above the limit/);
  });

  it('keeps 0 for --help and --version', { timeout: 120_000 }, async () => {
    const base = tempDir('lf-exit-help-');
    expect((await cli(['--version'], base)).code).toBe(0);
    const help = await cli(['run', '--help'], base);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: latentflow run/);
  });
});
