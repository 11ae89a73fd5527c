/**
 * Start-up and device overheads (issue #20), measured in one run on a shared, noisy machine:
 * - `latentflow --version` and `latentflow nodes` cold (a fresh process each), against a bare `node -e 0`;
 *   from dist/ when it is built and fresh (bin/latentflow.js decides), else from the sources through tsx;
 * - `latentflow serve` until it listens, and until its first toyworld image is on disk (cold process);
 * - toyworld 20-step txt2img on `--device webgpu` (SwiftShader here: a software GPU) against the CPU.
 * Wall times include the machine's noise; the fastest of several runs is reported, with CPU seconds.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createHost, type Host } from '../host/host.js';
import type { DeviceRequest } from '../runtime/devices.js';
import { generateToyworld } from '../toyworld/generate.js';
import { webgpuProblem } from '../test/fixtures/webgpu.js';
import { distIsFresh } from '../bin/dist-fresh.js';

const REPO = path.resolve(import.meta.dirname, '..');
const BIN = path.join(REPO, 'bin', 'latentflow.js');
const MODELS = path.join(REPO, 'models');
const run = promisify(execFile);

/** Wall and CPU seconds of one child process (CPU from the child's own resource usage). */
async function timed(args: string[]): Promise<{ wall: number; cpu: number }> {
  const t0 = performance.now();
  const probe = `process.on('exit',()=>{const u=process.resourceUsage();process.stderr.write('\\nCPU '+(u.userCPUTime+u.systemCPUTime)/1e6+'\\n')})`;
  const r = await run(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(probe)}`, ...args], { cwd: REPO, maxBuffer: 64 * 1024 * 1024 });
  const wall = (performance.now() - t0) / 1000;
  const cpu = Number(/CPU ([\d.]+)/.exec(r.stderr)?.[1] ?? NaN);
  return { wall, cpu };
}

async function best(args: string[], n = 5): Promise<{ wall: number; cpu: number }> {
  const all: { wall: number; cpu: number }[] = [];
  for (let i = 0; i < n; i++) all.push(await timed(args));
  return { wall: Math.min(...all.map((a) => a.wall)), cpu: Math.min(...all.map((a) => a.cpu)) };
}

function txt2img(seed: number, size = 256): Record<string, unknown> {
  const enc = (text: string) => ({ class_type: 'CLIPTextEncode', inputs: { text, clip: ['4', 1] } });
  return {
    '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'toyworld-shapes' } },
    '5': { class_type: 'EmptyLatentImage', inputs: { width: size, height: size, batch_size: 1 } },
    '6': enc('a red circle'),
    '7': enc(''),
    '3': { class_type: 'KSampler', inputs: { seed, steps: 20, cfg: 7, sampler_name: 'euler', scheduler: 'normal', denoise: 1, model: ['4', 0], positive: ['6', 0], negative: ['7', 0], latent_image: ['5', 0] } },
    '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
    '9': { class_type: 'SaveImage', inputs: { filename_prefix: 'bench', images: ['8', 0] } },
  };
}

async function cliColdStart(): Promise<void> {
  const bare = await best(['-e', '0']);
  const version = await best([BIN, '--version']);
  const nodes = await best([BIN, 'nodes'], 3);
  const mode = distIsFresh(REPO) ? 'from dist/ (built and fresh)' : 'from the sources through tsx (no fresh dist/: `npm run build` for the compiled path)';
  console.log(`CLI cold start, ${mode}; fastest of 5 (nodes: 3), wall / CPU seconds:`);
  console.log(`  node -e 0            ${bare.wall.toFixed(3)} / ${bare.cpu.toFixed(3)}`);
  console.log(`  latentflow --version ${version.wall.toFixed(3)} / ${version.cpu.toFixed(3)} (over bare node: +${(version.cpu - bare.cpu).toFixed(3)} CPU s; goal <= 0.2 s)`);
  console.log(`  latentflow nodes     ${nodes.wall.toFixed(3)} / ${nodes.cpu.toFixed(3)} (over bare node: +${(nodes.cpu - bare.cpu).toFixed(3)} CPU s)`);
}

async function serverCold(): Promise<void> {
  const base = await mkdtemp(path.join(tmpdir(), 'lf-bench-serve-'));
  const t0 = performance.now();
  const proc = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--base-dir', base, '--models-dir', MODELS, '--no-toyworld'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      proc.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /serving on (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      proc.on('exit', (code) => reject(new Error(`serve exited ${code}`)));
    });
    const ready = (performance.now() - t0) / 1000;
    const res = await fetch(`${url}/prompt`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ prompt: txt2img(1) }) });
    const { prompt_id: id } = (await res.json()) as { prompt_id: string };
    for (;;) {
      const h = (await (await fetch(`${url}/history/${id}`)).json()) as Record<string, { status?: { completed?: boolean; status_str?: string } }>;
      const st = h[id]?.status;
      if (st?.completed || st?.status_str === 'error') {
        if (st.status_str === 'error') throw new Error('the first image failed');
        break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    const first = (performance.now() - t0) / 1000;
    console.log(`serve, cold process: listening after ${ready.toFixed(2)} s (goal <= 1 s), first toyworld 256x256 20-step image saved after ${first.toFixed(2)} s (goal <= 3 s)`);
  } finally {
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
    await rm(base, { recursive: true, force: true });
  }
}

async function runTimed(host: Host, seed: number): Promise<number> {
  const t0 = performance.now();
  const r = await host.engine.run(txt2img(seed) as Parameters<Host['engine']['run']>[0]);
  if (r.status !== 'success') throw new Error(`txt2img failed: ${r.error?.message}`);
  return performance.now() - t0;
}

async function webgpuVsCpu(): Promise<void> {
  const problem = await webgpuProblem();
  if (problem) {
    console.log(`webgpu vs cpu: not measured, no WebGPU adapter (${problem})`);
    return;
  }
  const base = await mkdtemp(path.join(tmpdir(), 'lf-bench-webgpu-'));
  const open = (device: DeviceRequest) => createHost({ baseDir: base, modelsDir: MODELS, device, log: () => undefined });
  const [cpu, gpu] = [await open({ kind: 'cpu' }), await open({ kind: 'webgpu' })];
  try {
    // First runs load the sessions (and compile WebGPU shaders); then interleaved timed runs.
    await runTimed(cpu, 0);
    await runTimed(gpu, 0);
    const c: number[] = [];
    const g: number[] = [];
    for (let i = 1; i <= 2; i++) {
      c.push(await runTimed(cpu, i));
      g.push(await runTimed(gpu, i));
    }
    const icd = process.env.VK_ICD_FILENAMES ?? '';
    console.log(`toyworld 256x256 20-step txt2img, fastest of 2: cpu ${Math.min(...c).toFixed(0)} ms, webgpu ${Math.min(...g).toFixed(0)} ms; webgpu/cpu ${(Math.min(...g) / Math.min(...c)).toFixed(2)}${/swiftshader/i.test(icd) ? ' (SwiftShader: a software GPU on the same cores, so > 1 is expected; a regression shows as a rising ratio)' : ''}`);
  } finally {
    await cpu.close();
    await gpu.close();
    await rm(base, { recursive: true, force: true });
  }
}

export default async function (): Promise<void> {
  await generateToyworld(MODELS, { ifMissing: true });
  await cliColdStart();
  await serverCold();
  await webgpuVsCpu();
}
