/**
 * SDXL on toyworld-xl: the shipped workflows (sdxl-txt2img, sdxl-refiner, sdxl-turbo), and the parts of SDXL's
 * conditioning toyworld-xl makes visible: the shape comes from clip_g's pooled text_embeds (text_g), the placement
 * from the crop in time_ids, the colour from the penultimate hidden states. A node that drops the pooled output,
 * ignores time_ids or reads the last layer draws something else here.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHost, type Host } from '../../host/host.js';
import { MODEL_POOL } from '../../runtime/services.js';
import { decodeImage } from '../../imaging/codec.js';
import { Services, parseJson, type ApiWorkflow } from '../../engine/index.js';
import { JOB_LANE, StepScheduler } from '../../runtime/batching/index.js';
import { loadCheckpoint } from '../../nodes/diffusion/checkpoint.js';
import type { Tensor } from '../../runtime/tensor.js';
import { classify, ensureToyworld, MODELS_DIR } from '../nodes/diffusion/helpers.js';

type Wf = Record<string, { class_type: string; inputs: Record<string, unknown> }>;

let host: Host;
let base: string;

beforeAll(async () => {
  await ensureToyworld();
  base = await mkdtemp(path.join(tmpdir(), 'lf-sdxl-'));
  host = await createHost({ baseDir: base, modelsDir: MODELS_DIR });
});
afterAll(async () => {
  await host.close();
  await rm(base, { recursive: true, force: true });
});

async function load(name: string): Promise<Wf> {
  return parseJson(await readFile(path.join('workflows', `${name}.json`), 'utf8')) as unknown as Wf;
}

async function run(wf: Wf, job?: Services): Promise<Tensor> {
  const res = await host.engine.run(wf as unknown as ApiWorkflow, job ? { job } : undefined);
  expect(res.error?.message).toBeUndefined();
  const images = Object.values(res.outputs).flatMap((ui) => (ui.images ?? []) as { filename: string; subfolder: string }[]);
  expect(images).toHaveLength(1);
  return (await decodeImage(await readFile(path.join(base, 'output', images[0]!.subfolder, images[0]!.filename)))).image;
}

const label = async (img: Tensor) => (await classify(host.services.get(MODEL_POOL), img)).label;

/** Centre of the pixels that differ from the light background, as fractions of the frame. */
function centroid(img: Tensor): { x: number; y: number } {
  const [, H, W] = img.shape as [number, number, number, number];
  let sx = 0;
  let sy = 0;
  let n = 0;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = (y * W + x) * 3;
      if (Math.min(img.data[i]!, img.data[i + 1]!, img.data[i + 2]!) < 0.6) {
        sx += x;
        sy += y;
        n++;
      }
    }
  }
  return { x: sx / n / W, y: sy / n / H };
}

function prompt(wf: Wf, g: string, l = g, size: Record<string, number> = {}): Wf {
  Object.assign(wf['6']!.inputs, { text_g: g, text_l: l, ...size });
  return wf;
}

describe('SDXL workflows (toyworld-xl)', () => {
  it('sdxl-txt2img (CLIPTextEncodeSDXL) draws a green triangle', async () => {
    expect(await label(await run(await load('sdxl-txt2img')))).toBe('green triangle');
  });

  it('sdxl-refiner: base steps 0-20 then the refiner (text_encoder_2 only, time_ids with ascore) 20-25 keep a purple square', async () => {
    expect(await label(await run(await load('sdxl-refiner')))).toBe('purple square');
  });

  it('sdxl-turbo (SDTurboScheduler, cfg 1) draws a cyan cross', async () => {
    expect(await label(await run(await load('sdxl-turbo')))).toBe('cyan cross');
  });

  it('toyworld-xl-fp16 (float16 inputs and outputs on every model) draws the same green triangle', async () => {
    const wf = await load('sdxl-txt2img');
    wf['4']!.inputs.ckpt_name = 'toyworld-xl-fp16';
    expect(await label(await run(wf))).toBe('green triangle');
  });

  it('CLIPTextEncode on an SDXL checkpoint: default size conditioning, both towers', async () => {
    const wf = await load('sdxl-txt2img');
    wf['6'] = { class_type: 'CLIPTextEncode', inputs: { text: 'an orange ring', clip: ['4', 1] } };
    expect(await label(await run(wf))).toBe('orange ring');
  });

  it('the shape follows text_g (the pooled text_embeds), the colour both towers', async () => {
    for (const [g, l, want] of [['a red square', 'a red circle', 'red square'], ['a blue cross', 'a blue ring', 'blue cross'], ['a yellow circle', 'a yellow triangle', 'yellow circle']]) {
      expect(await label(await run(prompt(await load('sdxl-txt2img'), g!, l!)))).toBe(want);
    }
  });

  it('the crop in time_ids moves the object (cropping from the left moves it left, from the top moves it up)', async () => {
    const ring = async (size: Record<string, number>) => centroid(await run(prompt(await load('sdxl-txt2img'), 'a red ring', 'a red ring', size)));
    const centred = await ring({});
    const left = await ring({ crop_w: 384 });
    const up = await ring({ crop_h: 384 });
    expect(left.x).toBeLessThan(centred.x - 0.15);
    expect(up.y).toBeLessThan(centred.y - 0.1);
  });

  it('reads the penultimate layer: CLIPSetLastLayer -1 (the last layer, negated concepts in toyworld-xl) loses the colour', async () => {
    const wf = await load('sdxl-txt2img');
    wf['30'] = { class_type: 'CLIPSetLastLayer', inputs: { clip: ['4', 1], stop_at_clip_layer: -1 } };
    wf['6']!.inputs.clip = ['30', 0];
    expect(await label(await run(wf))).not.toMatch(/^green/);
  });
});

describe('SDXL cross-job batching (toyworld-xl)', () => {
  it('two jobs with other prompts and crops share U-Net calls, each row keeping its text_embeds and time_ids', async () => {
    const a = () => load('sdxl-txt2img').then((wf) => prompt(wf, 'a red square'));
    const b = () => load('sdxl-txt2img').then((wf) => prompt(wf, 'a blue ring', 'a blue ring', { crop_w: 384 }));
    const aloneA = await run(await a());
    const aloneB = await run(await b());
    const unet = loadCheckpoint(path.join(MODELS_DIR, 'checkpoints', 'toyworld-xl'), 'toyworld-xl', host.services.get(MODEL_POOL)).model.unet;
    const before = unet.stats().merged;
    host.engine.cache.clear();
    const sched = new StepScheduler({ maxBatch: 8, maxWaitMs: 50 });
    const lanes = [sched.lane('a'), sched.lane('b')];
    const [ta, tb] = await Promise.all([a(), b()].map(async (wf, i) => {
      try {
        return await run(await wf, new Services().set(JOB_LANE, lanes[i]!));
      } finally {
        lanes[i]!.close();
      }
    }));
    expect(unet.stats().merged - before).toBeGreaterThan(10);
    const worst = (x: Tensor, y: Tensor) => x.data.reduce((m, v, i) => Math.max(m, Math.abs(v - y.data[i]!)), 0);
    expect(worst(ta!, aloneA)).toBeLessThanOrEqual(2 / 255);
    expect(worst(tb!, aloneB)).toBeLessThanOrEqual(2 / 255);
    expect(await label(tb!)).toBe('blue ring');
  });
});

describe('SDXL bad input (toyworld)', () => {
  it('SD 1.x conditioning on the SDXL U-Net, and SDXL conditioning on an SD 1.x U-Net, fail naming both widths', async () => {
    const wf = await load('sdxl-txt2img');
    wf['40'] = { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'toyworld-shapes' } };
    wf['7']!.inputs.clip = ['40', 1];
    const res = await host.engine.run(wf as unknown as ApiWorkflow);
    expect(res.error?.message).toMatch(/SDXL U-Net of 'toyworld-xl' takes conditioning 2048 wide \(SDXL base\), but got conditioning 768 wide \(SD 1\.x\)/);
    const rev = await load('sdxl-txt2img');
    rev['40'] = { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'toyworld-shapes' } };
    rev['3']!.inputs.model = ['40', 0];
    const res2 = await host.engine.run(rev as unknown as ApiWorkflow);
    expect(res2.error?.message).toMatch(/U-Net of 'toyworld-shapes' takes conditioning 768 wide \(SD 1\.x\), but got conditioning 2048 wide \(SDXL base\)/);
  });

  it('base conditioning on the refiner, and CLIPTextEncodeSDXL on the refiner CLIP, fail with what is wrong', async () => {
    const wf = await load('sdxl-refiner');
    wf['11']!.inputs.positive = ['6', 0];
    const res = await host.engine.run(wf as unknown as ApiWorkflow);
    expect(res.error?.message).toMatch(/SDXL refiner U-Net of 'toyworld-xl-refiner' takes conditioning 1280 wide \(SDXL refiner\), but got conditioning 2048 wide \(SDXL base\)/);
    const wf2 = await load('sdxl-refiner');
    wf2['6']!.inputs.clip = ['12', 1];
    const res2 = await host.engine.run(wf2 as unknown as ApiWorkflow);
    expect(res2.error?.message).toMatch(/CLIPTextEncodeSDXL needs an SDXL base CLIP .* but 'toyworld-xl-refiner' has the SDXL refiner's CLIP/);
  });
});
