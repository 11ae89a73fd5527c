/**
 * The WebGPU suite: shipped toyworld workflows on `--device webgpu` give the CPU's image within one 8-bit
 * level (here through SwiftShader, a software Vulkan driver; docs/devices.md), and a device failing
 * mid-run under `auto` fails that job only, the next job running on the CPU.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHost, type Host } from '../../host/host.js';
import { decodeImage } from '../../imaging/codec.js';
import { parseJson, type ApiWorkflow } from '../../engine/index.js';
import { CPU, type DeviceRequest } from '../../runtime/devices.js';
import { loadClipText } from '../../nodes/clip/loaders.js';
import { encodeText } from '../../nodes/diffusion/clip-text.js';
import { MODEL_POOL } from '../../runtime/services.js';
import { ensureToyworld, MODELS_DIR } from '../nodes/diffusion/helpers.js';
import { webgpuProblem, webgpuTitle } from '../fixtures/webgpu.js';
import { writeWorkflowInputs } from './helpers.js';

type Api = Record<string, { class_type: string; inputs: Record<string, unknown> }>;

const problem = await webgpuProblem();
const hosts: Host[] = [];
let base: string;

beforeAll(async () => {
  await ensureToyworld();
  base = await mkdtemp(path.join(tmpdir(), 'lf-webgpu-'));
  await writeWorkflowInputs(path.join(base, 'input'));
});
afterAll(async () => {
  for (const h of hosts) await h.close();
  await rm(base, { recursive: true, force: true });
});

async function hostOn(device: DeviceRequest, out: string): Promise<Host> {
  const h = await createHost({ baseDir: base, modelsDir: MODELS_DIR, outputDir: path.join(base, out), device, log: () => undefined });
  hosts.push(h);
  return h;
}

async function workflow(name: string, edit?: (wf: Api) => void): Promise<ApiWorkflow> {
  const wf = parseJson(await readFile(path.join('workflows', `${name}.json`), 'utf8')) as Api;
  edit?.(wf);
  return wf as ApiWorkflow;
}

/** Runs a workflow and returns its one saved image as 8-bit levels. */
async function pixels(h: Host, wf: ApiWorkflow): Promise<Uint8Array> {
  const res = await h.engine.run(wf);
  expect(res.error?.message).toBeUndefined();
  const images = Object.values(res.outputs).flatMap((ui) => (ui.images ?? []) as { filename: string; subfolder: string }[]);
  expect(images).toHaveLength(1);
  const { image } = await decodeImage(await readFile(path.join(h.folders.output, images[0].subfolder, images[0].filename)));
  return Uint8Array.from(image.data, (v) => Math.round(v * 255));
}

function maxLevelDiff(a: Uint8Array, b: Uint8Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const ckpt = (name: string) => (wf: Api) => {
  for (const n of Object.values(wf)) if (n.class_type === 'CheckpointLoaderSimple') n.inputs.ckpt_name = name;
};

describe.skipIf(problem !== undefined)(webgpuTitle('toyworld workflows on --device webgpu', problem), { timeout: 300_000 }, () => {
  let cpu: Host;
  let gpu: Host;
  beforeAll(async () => {
    cpu = await hostOn({ kind: 'cpu' }, 'cpu');
    gpu = await hostOn({ kind: 'webgpu' }, 'webgpu');
  });

  it('txt2img gives the CPU image within 1 level, every session on webgpu', async () => {
    const wf = await workflow('txt2img');
    expect(maxLevelDiff(await pixels(gpu, wf), await pixels(cpu, wf))).toBeLessThanOrEqual(1);
    const sessions = gpu.services.get(MODEL_POOL).stats().sessions;
    expect(sessions.length).toBeGreaterThanOrEqual(3);
    expect(new Set(sessions.map((s) => s.device))).toEqual(new Set(['webgpu']));
  });

  it("CLIPLoader's device 'cpu' keeps that text encoder on the CPU while the host runs on webgpu", async () => {
    const folder = path.join(MODELS_DIR, 'clip_vision', 'toyworld-clip');
    const onCpu = await encodeText(loadClipText(folder, 'toyworld-clip', gpu.services, { device: CPU }), 'a red circle');
    const onGpu = await encodeText(loadClipText(folder, 'toyworld-clip', gpu.services), 'a red circle');
    const text = gpu.services.get(MODEL_POOL).stats().sessions.filter((s) => s.path.includes('toyworld-clip'));
    expect(text.map((s) => s.device).sort()).toEqual(['cpu', 'webgpu']);
    const [a, b] = [onCpu[0]!.embeds.data, onGpu[0]!.embeds.data];
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
    expect(worst).toBeLessThan(1e-4);
  });

  it('img2img (VAE encoder too) gives the CPU image within 1 level', async () => {
    const wf = await workflow('img2img');
    expect(maxLevelDiff(await pixels(gpu, wf), await pixels(cpu, wf))).toBeLessThanOrEqual(1);
  });

  it('SDXL (toyworld-xl: two text encoders, text_embeds/time_ids) gives the CPU image within 1 level', async () => {
    const wf = await workflow('sdxl-turbo');
    expect(maxLevelDiff(await pixels(gpu, wf), await pixels(cpu, wf))).toBeLessThanOrEqual(1);
    const xl = gpu.services.get(MODEL_POOL).stats().sessions.filter((s) => s.path.includes('toyworld-xl'));
    expect(xl.length).toBeGreaterThanOrEqual(3);
    expect(new Set(xl.map((s) => s.device))).toEqual(new Set(['webgpu']));
  });

  it('a float16 checkpoint: within 1 level where the adapter has float16, else a clear error before loading', async () => {
    const wf = await workflow('txt2img', ckpt('toyworld-shapes-fp16'));
    const ref = await pixels(cpu, wf);
    if (gpu.services.get(MODEL_POOL).device.capabilities?.float16) {
      expect(maxLevelDiff(await pixels(gpu, wf), ref)).toBeLessThanOrEqual(1);
      return;
    }
    const res = await gpu.engine.run(wf);
    expect(res.status).toBe('error');
    expect(res.error?.message).toMatch(/computes in float16, which device webgpu cannot run here/);
    expect(res.error?.message).toMatch(/--device auto/);
  });
});

describe.skipIf(problem !== undefined)(webgpuTitle('--device auto with WebGPU', problem), { timeout: 300_000 }, () => {
  it('runs float16 models the adapter cannot compute on the CPU, the rest on webgpu', async () => {
    const auto = await hostOn({ kind: 'auto' }, 'auto-fp16');
    const pool = auto.services.get(MODEL_POOL);
    if (pool.device.capabilities?.float16 !== false) return;
    const wf = await workflow('txt2img', ckpt('toyworld-shapes-fp16'));
    const cpu = await hostOn({ kind: 'cpu' }, 'cpu-fp16');
    expect(maxLevelDiff(await pixels(auto, wf), await pixels(cpu, wf))).toBe(0);
    // toyworld-shapes-fp16 has float16 I/O in every component: all of them move; the device stays webgpu.
    const fp16 = pool.stats().sessions.filter((s) => s.path.includes('toyworld-shapes-fp16'));
    expect(fp16.length).toBeGreaterThanOrEqual(3);
    expect(new Set(fp16.map((s) => s.device))).toEqual(new Set(['cpu']));
    expect(pool.device.device.kind).toBe('webgpu');
  });

  it('fails that job with a clear error and runs the next job on the CPU', async () => {
    const auto = await hostOn({ kind: 'auto' }, 'auto');
    const pool = auto.services.get(MODEL_POOL);
    expect(pool.device.device.kind).toBe('webgpu');
    const wf = await workflow('txt2img');
    let drilled = false;
    const failed = await auto.engine.run(wf, {
      onEvent: (ev) => {
        if (ev.type !== 'progress' || drilled) return;
        drilled = true;
        const unet = pool.stats().sessions.find((s) => s.path.includes(`${path.sep}unet${path.sep}`));
        if (unet) pool.faultDrill(unet.path);
      },
    });
    expect(failed.status).toBe('error');
    expect(failed.error?.message).toMatch(/inference worker .* died/);
    expect(pool.device.device.kind).toBe('cpu');
    expect(pool.device.fellBackFrom?.device.kind).toBe('webgpu');
    const cpu = await hostOn({ kind: 'cpu' }, 'cpu-ref');
    expect(maxLevelDiff(await pixels(auto, wf), await pixels(cpu, wf))).toBe(0);
    expect(new Set(pool.stats().sessions.filter((s) => s.loaded).map((s) => s.device))).toEqual(new Set(['cpu']));
  });

  it('an explicitly chosen device is never left for the CPU', async () => {
    const gpu = await hostOn({ kind: 'webgpu' }, 'explicit');
    const pool = gpu.services.get(MODEL_POOL);
    const wf = await workflow('txt2img');
    let drilled = false;
    const failed = await gpu.engine.run(wf, {
      onEvent: (ev) => {
        if (ev.type !== 'progress' || drilled) return;
        drilled = true;
        for (const s of pool.stats().sessions) pool.faultDrill(s.path);
      },
    });
    expect(failed.status).toBe('error');
    expect(pool.device.device.kind).toBe('webgpu');
    await pixels(gpu, wf);
    expect(new Set(pool.stats().sessions.map((s) => s.device))).toEqual(new Set(['webgpu']));
  });
});
