/**
 * The toyworld ControlNet (toyworld/models/controlnet.ts) through the nodes: the silhouette decides where
 * and in what shape the prompted colour is drawn; strength 0 is the run without it; end_percent 0.3
 * leaves the later steps to the plain prototypes; concurrent jobs share residual U-Net calls; a
 * checkpoint without cnet/ refuses a ControlNet before sampling.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHost, type Host } from '../../../host/host.js';
import { decodeImage } from '../../../imaging/codec.js';
import { Services, type ApiWorkflow } from '../../../engine/index.js';
import { JOB_LANE, StepScheduler } from '../../../runtime/batching/index.js';
import type { Tensor } from '../../../runtime/tensor.js';
import { loadCheckpoint } from '../../../nodes/diffusion/checkpoint.js';
import { loadControlNet } from '../../../nodes/controlnet/index.js';
import { MODEL_POOL } from '../../../runtime/services.js';
import { COLOURS, BACKGROUND, shapeCoverage } from '../../../toyworld/world.js';
import { ensureToyworld, MODELS_DIR } from '../diffusion/helpers.js';
import { writeWorkflowInputs } from '../../workflows/helpers.js';

let host: Host;
let base: string;

beforeAll(async () => {
  await ensureToyworld();
  base = await mkdtemp(path.join(tmpdir(), 'lf-cnet-'));
  await writeWorkflowInputs(path.join(base, 'input'));
  host = await createHost({ baseDir: base, modelsDir: MODELS_DIR });
});
afterAll(async () => {
  await host.close();
  await rm(base, { recursive: true, force: true });
});

interface Opts {
  strength?: number;
  end?: number;
  control?: boolean;
  ckpt?: string;
  seed?: number;
  prompt?: string;
  sampler?: string;
  /** img2img from toyworld-red-circle.png at this denoise. */
  img2img?: number;
  /** Inpaint (SetLatentNoiseMask) the left half of toyworld-red-circle.png. */
  inpaint?: boolean;
  /** ConditioningSetArea on the controlled positive (pixels: w, h, x, y). */
  area?: [number, number, number, number];
  /** ConditioningSetMask (a full mask) on the controlled positive. */
  mask?: boolean;
}

/** txt2img 256x256, euler/karras 20, cfg 7, with the silhouette ControlNet on both rows unless control is false. */
function workflow(o: Opts = {}): ApiWorkflow {
  const wf: Record<string, { class_type: string; inputs: Record<string, unknown> }> = {
    ck: { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: o.ckpt ?? 'toyworld-shapes' } },
    pos: { class_type: 'CLIPTextEncode', inputs: { text: o.prompt ?? 'a red circle', clip: ['ck', 1] } },
    neg: { class_type: 'CLIPTextEncode', inputs: { text: '', clip: ['ck', 1] } },
    img: { class_type: 'LoadImage', inputs: { image: 'toyworld-silhouette.png' } },
    cn: { class_type: 'ControlNetLoader', inputs: { control_net_name: 'toyworld-silhouette' } },
    apply: {
      class_type: 'ControlNetApplyAdvanced',
      inputs: { positive: ['pos', 0], negative: ['neg', 0], control_net: ['cn', 0], image: ['img', 0], strength: o.strength ?? 1, start_percent: 0, end_percent: o.end ?? 1 },
    },
    lat: { class_type: 'EmptyLatentImage', inputs: { width: 256, height: 256, batch_size: 1 } },
    src: { class_type: 'LoadImage', inputs: { image: 'toyworld-red-circle.png' } },
    enc: { class_type: 'VAEEncode', inputs: { pixels: ['src', 0], vae: ['ck', 2] } },
    // toyworld-inpaint.png's mask is 1 on its transparent right half: inverted, the left half.
    alpha: { class_type: 'LoadImage', inputs: { image: 'toyworld-inpaint.png' } },
    mask: { class_type: 'InvertMask', inputs: { mask: ['alpha', 1] } },
    masked: { class_type: 'SetLatentNoiseMask', inputs: { samples: ['enc', 0], mask: ['mask', 0] } },
    full: { class_type: 'SolidMask', inputs: { value: 1, width: 256, height: 256 } },
    maskPos: { class_type: 'ConditioningSetMask', inputs: { conditioning: ['apply', 0], mask: ['full', 0], strength: 1, set_cond_area: 'default' } },
    areaPos: { class_type: 'ConditioningSetArea', inputs: { conditioning: ['apply', 0], width: o.area?.[0] ?? 64, height: o.area?.[1] ?? 64, x: o.area?.[2] ?? 0, y: o.area?.[3] ?? 0, strength: 1 } },
    ks: {
      class_type: 'KSampler',
      inputs: {
        seed: o.seed ?? 7, steps: 20, cfg: 7, sampler_name: o.sampler ?? 'euler', scheduler: 'karras', denoise: o.img2img ?? 1, model: ['ck', 0],
        positive: o.control === false ? ['pos', 0] : o.area ? ['areaPos', 0] : o.mask ? ['maskPos', 0] : ['apply', 0], negative: o.control === false ? ['neg', 0] : ['apply', 1],
        latent_image: o.inpaint ? ['masked', 0] : o.img2img !== undefined ? ['enc', 0] : ['lat', 0],
      },
    },
    dec: { class_type: 'VAEDecode', inputs: { samples: ['ks', 0], vae: ['ck', 2] } },
    save: { class_type: 'SaveImage', inputs: { filename_prefix: 'cn', images: ['dec', 0] } },
  };
  return wf as unknown as ApiWorkflow;
}

async function image(o: Opts = {}, sched?: StepScheduler): Promise<Tensor> {
  const lane = sched?.lane(`${o.seed}-${o.prompt}`);
  const res = await host.engine.run(workflow(o), lane ? { job: new Services().set(JOB_LANE, lane) } : {}).finally(() => lane?.close());
  expect(res.error?.message).toBeUndefined();
  const [img] = Object.values(res.outputs).flatMap((ui) => (ui.images ?? []) as { filename: string; subfolder: string }[]);
  return (await decodeImage(await readFile(path.join(base, 'output', img!.subfolder, img!.filename)))).image;
}

/** The silhouette the example input draws (toyworld/example-inputs.ts). */
const SILHOUETTE = shapeCoverage('triangle', { cx: 0.36, cy: 0.6, size: 0.5 }, 256, 256);

/** Pixels whose nearest world colour (background included) is `colour`: a 0/1 map. */
function colourMap(img: Tensor, colour: string): Uint8Array {
  const palette = [...COLOURS.map((c) => ({ name: c.name, rgb: c.rgb })), { name: 'background', rgb: BACKGROUND }];
  const out = new Uint8Array(img.shape[1]! * img.shape[2]!);
  for (let p = 0; p < out.length; p++) {
    let best = '';
    let bestD = Infinity;
    for (const c of palette) {
      let d = 0;
      for (let k = 0; k < 3; k++) d += (img.data[p * 3 + k]! * 255 - c.rgb[k]!) ** 2;
      if (d < bestD) [best, bestD] = [c.name, d];
    }
    out[p] = best === colour ? 1 : 0;
  }
  return out;
}

/** Intersection over union of the `colour` pixels with the silhouette (coverage > 0.5). */
function iou(img: Tensor, colour: string): number {
  const m = colourMap(img, colour);
  let inter = 0;
  let union = 0;
  for (let p = 0; p < m.length; p++) {
    const s = SILHOUETTE[p]! > 0.5 ? 1 : 0;
    inter += s & m[p]!;
    union += s | m[p]!;
  }
  return inter / union;
}

describe('toyworld ControlNet', () => {
  it('draws the prompted colour in the silhouette (a triangle where no prototype is), whatever shape the prompt names', async () => {
    const red = await image();
    expect(iou(red, 'red')).toBeGreaterThan(0.85);
    const blue = await image({ prompt: 'a blue square', seed: 3 });
    expect(iou(blue, 'blue')).toBeGreaterThan(0.85);
    // Without the ControlNet the model draws one of its own red circles instead (it overlaps the triangle by about half).
    expect(iou(await image({ control: false }), 'red')).toBeLessThan(0.65);
  }, 120_000);

  it('works with other samplers, img2img, inpainting, an area and a mask', async () => {
    for (const sampler of ['dpmpp_2m', 'heun', 'euler_ancestral', 'uni_pc']) expect(iou(await image({ sampler }), 'red'), sampler).toBeGreaterThan(0.8);
    // img2img from the red circle: the triangle in blue replaces it.
    expect(iou(await image({ prompt: 'a blue triangle', img2img: 0.9 }), 'blue')).toBeGreaterThan(0.8);
    // Inpainting the left half: the triangle's left part is drawn there, the right half keeps the input.
    const inp = await image({ prompt: 'a green circle', inpaint: true });
    const green = colourMap(inp, 'green');
    let inside = 0;
    let right = 0;
    for (let y = 0; y < 256; y++) {
      for (let x = 0; x < 256; x++) {
        if (x < 120 && SILHOUETTE[y * 256 + x]! > 0.9) inside += green[y * 256 + x]!;
        if (x >= 136) right += green[y * 256 + x]!;
      }
    }
    expect(inside).toBeGreaterThan(4000);
    expect(right).toBe(0);
    // The controlled prompt on the whole canvas as an area (a hint of the area's size): the same silhouette.
    expect(iou(await image({ area: [256, 256, 0, 0] }), 'red')).toBeGreaterThan(0.8);
    // And as a masked entry (the general, weighted path).
    expect(iou(await image({ mask: true }), 'red')).toBeGreaterThan(0.8);
  }, 120_000);

  it('composes with a LoRA that patches both U-Nets: toyworld-purple repaints the silhouette purple', async () => {
    const wf = workflow() as unknown as Record<string, { class_type: string; inputs: Record<string, unknown> }>;
    wf.lora = { class_type: 'LoraLoader', inputs: { model: ['ck', 0], clip: ['ck', 1], lora_name: 'toyworld-purple.safetensors', strength_model: 1, strength_clip: 1 } };
    for (const id of ['pos', 'neg']) wf[id]!.inputs.clip = ['lora', 1];
    wf.ks!.inputs.model = ['lora', 0];
    const res = await host.engine.run(wf as unknown as ApiWorkflow);
    expect(res.error?.message).toBeUndefined();
    const [img] = Object.values(res.outputs).flatMap((ui) => (ui.images ?? []) as { filename: string; subfolder: string }[]);
    const out = (await decodeImage(await readFile(path.join(base, 'output', img!.subfolder, img!.filename)))).image;
    expect(iou(out, 'purple')).toBeGreaterThan(0.85);
  }, 120_000);

  it('strength 0 gives exactly the picture without ControlNet', async () => {
    const plain = await image({ control: false });
    const zero = await image({ strength: 0 });
    expect(Array.from(zero.data)).toEqual(Array.from(plain.data));
  }, 120_000);

  it('end_percent 0.3 weakens it: the later steps settle on a prototype, away from the silhouette', async () => {
    const full = iou(await image(), 'red');
    const early = iou(await image({ end: 0.3 }), 'red');
    expect(full - early).toBeGreaterThan(0.25);
    // Still red: the control only changed where and what shape.
    expect(colourMap(await image({ end: 0.3 }), 'red').reduce((a, b) => a + b, 0)).toBeGreaterThan(2000);
  }, 120_000);

  it('a checkpoint without a residual U-Net (cnet/) refuses a ControlNet before the first step', async () => {
    const events: string[] = [];
    const res = await host.engine.run(workflow({ ckpt: 'toyworld-shapes-int64t' }), { onEvent: (e) => events.push(e.type) });
    expect(res.status).toBe('error');
    expect(res.error?.message).toMatch(/ControlNet 'toyworld-silhouette' is applied, but checkpoint 'toyworld-shapes-int64t' has no residual U-Net \(cnet\/model\.onnx/);
    expect(events).not.toContain('progress');
  }, 120_000);

  it('two jobs with ControlNets at once share ControlNet and residual U-Net calls and get the pictures they get alone', async () => {
    const alone = [await image({ seed: 1 }), await image({ seed: 2, prompt: 'a green cross' })];
    const ck = loadCheckpoint(path.join(MODELS_DIR, 'checkpoints', 'toyworld-shapes'), 'toyworld-shapes', host.services.get(MODEL_POOL));
    const cn = loadControlNet(path.join(MODELS_DIR, 'controlnet', 'toyworld-silhouette'), 'toyworld-silhouette', host.services.get(MODEL_POOL));
    const before = ck.model.residualUnet!.stats();
    const cnBefore = cn.queue.stats();
    host.engine.cache.clear();
    const sched = new StepScheduler({ maxBatch: 8 });
    const [a, b] = await Promise.all([image({ seed: 1 }, sched), image({ seed: 2, prompt: 'a green cross' }, sched)]);
    const after = ck.model.residualUnet!.stats();
    expect(after.merged).toBeGreaterThan(before.merged);
    // The ControlNet calls merge too (its own batching point).
    expect(cn.queue.stats().merged).toBeGreaterThan(cnBefore.merged);
    for (const [x, y] of [[a, alone[0]], [b, alone[1]]] as const) {
      let worst = 0;
      for (let i = 0; i < x!.data.length; i++) worst = Math.max(worst, Math.abs(x!.data[i]! - y!.data[i]!));
      expect(worst).toBeLessThanOrEqual(1 / 255);
    }
  }, 120_000);
});
