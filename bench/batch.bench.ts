/**
 * A 200-job batch through the CLI's batch runner, in-process: jobs/s with --jobs 1 and --jobs 2, and
 * resident memory after 50, 100 and 200 jobs (it must level off, not grow with the job count).
 * Runs txt2img on toyworld at 64x64 when the diffusion nodes and the pack are there, otherwise an
 * image-only workflow (LoadImage -> ImageScale -> SaveImage) and says so.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { parseJson, checkStructure, type ApiWorkflow } from '../engine/index.js';
import { createHost } from '../host/host.js';
import { createRegistry } from '../host/registry.js';
import { planBatch } from '../cli/batch/plan.js';
import { combine } from '../cli/batch/sweep.js';
import { Manifest } from '../cli/batch/manifest.js';
import { runBatch } from '../cli/batch/runner.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MODELS = path.join(REPO, 'models');
const JOBS = 200;
const MARKS = [50, 100, 200];

interface Setup {
  name: string;
  workflow: ApiWorkflow;
  axis: { target: string; values: string[] };
  prepare(base: string): Promise<void>;
}

function txt2img(): Setup | undefined {
  const registry = createRegistry();
  const file = path.join(REPO, 'workflows/txt2img.json');
  const ready = ['CheckpointLoaderSimple', 'CLIPTextEncode', 'KSampler', 'VAEDecode'].every((t) => registry.has(t));
  if (!ready || !existsSync(file) || !existsSync(path.join(MODELS, 'checkpoints/toyworld-shapes/unet/model.onnx'))) return undefined;
  const shape = checkStructure(parseJson(readFileSync(file, 'utf8')));
  if (!shape.ok) return undefined;
  const wf = shape.workflow;
  wf['5']!.inputs.width = 64;
  wf['5']!.inputs.height = 64;
  return { name: 'txt2img on toyworld, 64x64, 20 steps euler/karras, one prompt, seeds 1..200', workflow: wf, axis: { target: 'seed', values: Array.from({ length: JOBS }, (_, i) => String(i + 1)) }, prepare: async () => {} };
}

function imageOnly(): Setup {
  return {
    name: 'LoadImage -> ImageScale (bilinear) -> SaveImage, widths 64..263 (the diffusion nodes or toyworld are missing)',
    workflow: {
      '1': { class_type: 'LoadImage', inputs: { image: 'in.png' } },
      '2': { class_type: 'ImageScale', inputs: { image: ['1', 0], upscale_method: 'bilinear', width: 64, height: 64, crop: 'disabled' } },
      '3': { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: 'bench' } },
    },
    axis: { target: '2.width', values: Array.from({ length: JOBS }, (_, i) => String(64 + i)) },
    async prepare(base) {
      await mkdir(path.join(base, 'input'), { recursive: true });
      await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 200, g: 40, b: 40 } } }).png().toFile(path.join(base, 'input', 'in.png'));
    },
  };
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;

async function once(setup: Setup, concurrency: number): Promise<void> {
  const base = await mkdtemp(path.join(tmpdir(), 'lf-bench-batch-'));
  await setup.prepare(base);
  const host = await createHost({ baseDir: base, modelsDir: MODELS });
  try {
    const plan = planBatch(setup.workflow, combine(undefined, [setup.axis]), host.engine);
    const manifest = await Manifest.open(host.folders.output);
    let peak = process.memoryUsage().rss;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 25);
    const at: string[] = [];
    let ended = 0;
    const t0 = performance.now();
    const summary = await runBatch({
      host,
      dirs: host.folders,
      manifest,
      jobs: plan.jobs,
      concurrency,
      signal: new AbortController().signal,
      onEvent: (ev) => {
        if (ev.type !== 'job_end') return;
        const rss = process.memoryUsage().rss;
        peak = Math.max(peak, rss);
        if (MARKS.includes(++ended)) at.push(`${ended}: ${mib(rss)}`);
      },
    });
    const s = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    if (summary.done !== JOBS) throw new Error(`only ${summary.done} of ${JOBS} jobs finished (${summary.failed.map((f) => f.error).join('; ')})`);
    console.log(`--jobs ${concurrency}: ${JOBS} jobs in ${s.toFixed(1)} s = ${(JOBS / s).toFixed(1)} jobs/s | RSS after ${at.join(', ')} | peak ${mib(peak)}`);
  } finally {
    await host.close();
    await rm(base, { recursive: true, force: true });
  }
}

export default async function (): Promise<void> {
  const setup = txt2img() ?? imageOnly();
  console.log(`workflow: ${setup.name}`);
  for (const jobs of [1, 2]) await once(setup, jobs);
}
