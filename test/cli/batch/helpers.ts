import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import sharp from 'sharp';
import type { ApiWorkflow } from '../../../engine/index.js';

export const REPO = path.resolve(import.meta.dirname, '../../..');
export const BIN = path.join(REPO, 'bin/latentflow.js');

/** LoadImage -> ImageScale ("Scale") -> SaveImage, the image-only batch workflow. */
export function scaleWorkflow(width = 16, height = 12, method = 'bilinear'): ApiWorkflow {
  return {
    '1': { class_type: 'LoadImage', inputs: { image: 'red.png' } },
    '2': { class_type: 'ImageScale', inputs: { image: ['1', 0], upscale_method: method, width, height, crop: 'disabled' }, _meta: { title: 'Scale' } },
    '3': { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: 'scaled/img' } },
  };
}

/** A temp base folder with input/red.png (32x24, a red-to-blue gradient so every resample differs). */
export async function makeBase(): Promise<string> {
  const base = await mkdtemp(path.join(tmpdir(), 'lf-batch-'));
  await mkdir(path.join(base, 'input'), { recursive: true });
  const w = 32;
  const h = 24;
  const px = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) px.set([200, (x * 7) % 256, (y * 10) % 256], (y * w + x) * 3);
  await sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toFile(path.join(base, 'input', 'red.png'));
  await writeFile(path.join(base, 'wf.json'), JSON.stringify(scaleWorkflow()));
  return base;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI in `cwd`. `onStdoutLine` may return a signal to send to the process (to interrupt it
 * at a chosen point of the batch).
 */
export function runCli(args: string[], cwd: string, onStdoutLine?: (line: string) => NodeJS.Signals | undefined): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let pending = '';
    let sent = false;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        const sig = onStdoutLine?.(line);
        if (sig && !sent) {
          sent = true;
          child.kill(sig);
        }
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
