/**
 * Time per sampling step with one ControlNet relative to without, on realarch's tiny-sd15 + tiny-sd15-cn
 * (real diffusers graphs, ../shared/data/realarch) when present, else on toyworld's silhouette ControlNet.
 * Per run: the steps' wall time from the progress events, and the time inside each session's calls (the
 * plain U-Net, the residual U-Net, the ControlNet), so the ratio can be set against what the extra
 * sessions cost by themselves (goal: with <= without x (residual / plain U-Net) + the ControlNet's time).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHost } from '../host/host.js';
import { MODEL_POOL } from '../runtime/services.js';
import { generateToyworld } from '../toyworld/generate.js';

const REALARCH = path.resolve('..', 'shared', 'data', 'realarch');
const STEPS = 20;
const REPS = 7;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Setup {
  readonly label: string;
  readonly models: string;
  readonly input?: string;
  readonly ckpt: string;
  readonly cn: string;
  readonly hint: string;
  readonly size: number;
}

function workflow(s: Setup, seed: number, control: boolean): Record<string, unknown> {
  return {
    ck: { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: s.ckpt } },
    pos: { class_type: 'CLIPTextEncode', inputs: { text: 'a red circle', clip: ['ck', 1] } },
    neg: { class_type: 'CLIPTextEncode', inputs: { text: '', clip: ['ck', 1] } },
    img: { class_type: 'LoadImage', inputs: { image: s.hint } },
    cn: { class_type: 'ControlNetLoader', inputs: { control_net_name: s.cn } },
    apply: { class_type: 'ControlNetApplyAdvanced', inputs: { positive: ['pos', 0], negative: ['neg', 0], control_net: ['cn', 0], image: ['img', 0], strength: 1, start_percent: 0, end_percent: 1 } },
    lat: { class_type: 'EmptyLatentImage', inputs: { width: s.size, height: s.size, batch_size: 1 } },
    ks: {
      class_type: 'KSampler',
      inputs: {
        seed, steps: STEPS, cfg: 7, sampler_name: 'euler', scheduler: 'normal', denoise: 1, model: ['ck', 0],
        positive: control ? ['apply', 0] : ['pos', 0], negative: control ? ['apply', 1] : ['neg', 0], latent_image: ['lat', 0],
      },
    },
    out: { class_type: 'PreviewImage', inputs: { images: ['dec', 0] } },
    dec: { class_type: 'VAEDecode', inputs: { samples: ['ks', 0], vae: ['ck', 2] } },
  };
}

export default async function (): Promise<void> {
  const real = existsSync(path.join(REALARCH, 'models', 'checkpoints', 'tiny-sd15', 'cnet'));
  const toy = path.resolve('models');
  if (!real) await generateToyworld(toy, { ifMissing: true });
  const base = await mkdtemp(path.join(tmpdir(), 'lf-bench-cn-'));
  const setup: Setup = real
    ? { label: 'realarch tiny-sd15 + tiny-sd15-cn, 64x64', models: path.join(REALARCH, 'models'), input: path.join(REALARCH, 'input'), ckpt: 'tiny-sd15', cn: 'tiny-sd15-cn', hint: 'ctrl-shapes-64.png', size: 64 }
    : { label: 'toyworld-shapes + toyworld-silhouette, 256x256', models: toy, ckpt: 'toyworld-shapes', cn: 'toyworld-silhouette', hint: 'toyworld-silhouette.png', size: 256 };
  const host = await createHost({ baseDir: base, modelsDir: setup.models, ...(setup.input ? { inputDir: setup.input } : {}) });
  if (!real) {
    const { writeExampleInputs } = await import('../toyworld/example-inputs.js');
    await writeExampleInputs(host.folders.input);
  }
  try {
    const pool = host.services.get(MODEL_POOL);
    const files = {
      unet: path.join(setup.models, 'checkpoints', setup.ckpt, 'unet', 'model.onnx'),
      cnet: path.join(setup.models, 'checkpoints', setup.ckpt, 'cnet', 'model.onnx'),
      controlnet: path.join(setup.models, 'controlnet', setup.cn, 'model.onnx'),
    };
    const inside: Record<string, number> = { unet: 0, cnet: 0, controlnet: 0 };
    for (const [role, file] of Object.entries(files)) {
      const session = await pool.session(file);
      const run = session.run.bind(session);
      Object.assign(session, {
        run: async (...args: Parameters<typeof run>) => {
          const t0 = performance.now();
          try {
            return await run(...args);
          } finally {
            inside[role]! += performance.now() - t0;
          }
        },
      });
    }
    /** Per-step wall time (first to last progress event) and per-step session times of one run. */
    const measure = async (seed: number, control: boolean) => {
      for (const k of Object.keys(inside)) inside[k] = 0;
      const stamps: number[] = [];
      const res = await host.engine.run(workflow(setup, seed, control), { onEvent: (e) => e.type === 'progress' && stamps.push(performance.now()) });
      if (res.status !== 'success') throw new Error(`workflow failed: ${res.error?.message}`);
      const per = (ms: number) => ms / STEPS;
      return { step: (stamps[stamps.length - 1]! - stamps[0]!) / (stamps.length - 1), unet: per(inside.unet!), cnet: per(inside.cnet!), controlnet: per(inside.controlnet!) };
    };
    await measure(0, false);
    await measure(0, true);
    const plain: ReturnType<typeof measure> extends Promise<infer R> ? R[] : never = [];
    const ctrl: typeof plain = [];
    for (let i = 1; i <= REPS; i++) {
      plain.push(await measure(i, false));
      ctrl.push(await measure(i, true));
    }
    const m = (xs: typeof plain, k: keyof (typeof plain)[number]) => median(xs.map((x) => x[k]));
    const stepPlain = m(plain, 'step');
    const stepCtrl = m(ctrl, 'step');
    const unet = m(plain, 'unet');
    const cnet = m(ctrl, 'cnet');
    const controlnet = m(ctrl, 'controlnet');
    console.log(`${setup.label}, euler ${STEPS} steps, cfg 7 (cond + uncond rows), medians of ${REPS} interleaved runs`);
    console.log(`time per step: without ControlNet ${stepPlain.toFixed(2)} ms, with one ${stepCtrl.toFixed(2)} ms: ratio ${(stepCtrl / stepPlain).toFixed(3)}`);
    console.log(`per step inside sessions: plain U-Net ${unet.toFixed(2)} ms; residual U-Net ${cnet.toFixed(2)} ms + ControlNet ${controlnet.toFixed(2)} ms`);
    const goal = (stepPlain * cnet) / unet + controlnet;
    console.log(`goal: with <= without x (residual / plain U-Net) + ControlNet = ${goal.toFixed(2)} ms; measured ${stepCtrl.toFixed(2)} ms (${((100 * (stepCtrl - goal)) / goal).toFixed(1)}% over)`);
  } finally {
    await host.close();
    await rm(base, { recursive: true, force: true });
  }
}
