import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import sharp from 'sharp';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHost, type Host } from '../../host/host.js';
import { MODEL_POOL } from '../../runtime/services.js';
import { decodeImage } from '../../imaging/codec.js';
import { apiToUi, parseJson, stringifyJson, uiToApi, type ApiWorkflow } from '../../engine/index.js';
import { pack, type Obj } from '../engine/formats/helpers.js';
import type { Tensor } from '../../runtime/tensor.js';
import { classify, ensureToyworld, meanColour, MODELS_DIR } from '../nodes/diffusion/helpers.js';
import { writeWorkflowInputs } from './helpers.js';

let host: Host;
let base: string;

beforeAll(async () => {
  await ensureToyworld();
  base = await mkdtemp(path.join(tmpdir(), 'lf-workflows-'));
  await writeWorkflowInputs(path.join(base, 'input'));
  host = await createHost({ baseDir: base, modelsDir: MODELS_DIR });
});
afterAll(async () => {
  await host.close();
  await rm(base, { recursive: true, force: true });
});

type Edit = (wf: Record<string, { class_type: string; inputs: Record<string, unknown> }>) => ApiWorkflow | void;

async function run(name: string, edit?: Edit): Promise<Tensor> {
  const wf = parseJson(await readFile(path.join('workflows', `${name}.json`), 'utf8')) as Record<string, { class_type: string; inputs: Record<string, unknown> }>;
  const res = await host.engine.run(edit?.(wf) ?? wf);
  expect(res.error?.message).toBeUndefined();
  expect(res.status).toBe('success');
  const images = Object.values(res.outputs).flatMap((ui) => (ui.images ?? []) as { filename: string; subfolder: string }[]);
  expect(images).toHaveLength(1);
  const file = path.join(base, 'output', images[0].subfolder, images[0].filename);
  return (await decodeImage(await readFile(file))).image;
}

const pool = () => host.services.get(MODEL_POOL);

describe('shipped workflows (toyworld)', () => {
  it('txt2img draws a red circle', async () => {
    expect((await classify(pool(), await run('txt2img'))).label).toBe('red circle');
  });

  it('img2img turns the red circle blue', async () => {
    expect((await classify(pool(), await run('img2img'))).label).toBe('blue circle');
  });

  it('controlnet: Canny edges of the red circle, "a blue circle" drawn along them (an outline where the circle was)', async () => {
    const img = await run('controlnet');
    // A blue pixel on the circle's edge (toyworld-red-circle.png: centre (102, 115), radius 51), background at its centre.
    const px = (y: number, x: number) => [0, 1, 2].map((c) => img.data[(y * 256 + x) * 3 + c]!);
    const ring = Array.from({ length: 16 }, (_, i) => {
      const a = (i / 16) * 2 * Math.PI;
      return px(Math.round(115 + 51 * Math.sin(a)), Math.round(102 + 51 * Math.cos(a)));
    });
    const blue = ring.filter(([r, g, b]) => b! > 0.6 && r! < 0.4 && g! < 0.5).length;
    expect(blue).toBeGreaterThanOrEqual(12);
    const centre = px(115, 102);
    expect(Math.min(...centre)).toBeGreaterThan(0.8);
  });

  it('hires-fix upscales to 256x256 and keeps the class', async () => {
    const img = await run('hires-fix');
    expect(img.shape.slice(1, 3)).toEqual([256, 256]);
    expect((await classify(pool(), img)).label).toBe('purple cross');
  });

  it('txt2img with its sampler and decoder packed into a ComfyUI subgraph draws the same pixels', async () => {
    const plain = await run('txt2img');
    const info = host.engine.objectInfo();
    const packed = await run('txt2img', (wf) => {
      const ui = parseJson(stringifyJson(apiToUi(wf as ApiWorkflow, info))) as Obj;
      const api = uiToApi(pack(ui, [3, 8], 50), info);
      expect(Object.keys(api).sort()).toEqual(['4', '5', '50:3', '50:8', '6', '7', '9']);
      return api;
    });
    expect(packed.data).toEqual(plain.data);
  });

  it('shapes inferred before running match the images the workflows save', async () => {
    for (const name of ['txt2img', 'img2img', 'inpaint', 'outpaint', 'hires-fix', 'area-composition', 'turbo', 'image-scale']) {
      const wf = parseJson(await readFile(path.join('workflows', `${name}.json`), 'utf8')) as unknown as ApiWorkflow;
      const shapes = await host.engine.inferShapes(wf);
      const save = Object.values(wf).find((n) => n.class_type === 'SaveImage')!;
      const [from, slot] = save.inputs.images as [string, number];
      const image = await run(name);
      expect(shapes[from]![slot], name).toEqual(image.shape);
    }
  });

  it('ConditioningSetTimestepRange: an entry whose range never comes up changes nothing, bit for bit', async () => {
    const plain = await run('txt2img');
    const ranged = await run('txt2img', (wf) => {
      const ks = Object.values(wf).find((n) => n.class_type === 'KSampler')!;
      wf['100'] = { class_type: 'CLIPTextEncode', inputs: { text: 'a blue square', clip: wf['6']!.inputs.clip } };
      wf['101'] = { class_type: 'ConditioningSetTimestepRange', inputs: { conditioning: ['100', 0], start: 1, end: 1 } };
      wf['102'] = { class_type: 'ConditioningCombine', inputs: { conditioning_1: ks.inputs.positive, conditioning_2: ['101', 0] } };
      ks.inputs.positive = ['102', 0];
    });
    expect(ranged.data).toEqual(plain.data);
    // The same entry over the whole schedule does change the picture.
    const mixed = await run('txt2img', (wf) => {
      const ks = Object.values(wf).find((n) => n.class_type === 'KSampler')!;
      wf['100'] = { class_type: 'CLIPTextEncode', inputs: { text: 'a blue square', clip: wf['6']!.inputs.clip } };
      wf['101'] = { class_type: 'ConditioningSetTimestepRange', inputs: { conditioning: ['100', 0], start: 0, end: 1 } };
      wf['102'] = { class_type: 'ConditioningCombine', inputs: { conditioning_1: ks.inputs.positive, conditioning_2: ['101', 0] } };
      ks.inputs.positive = ['102', 0];
    });
    expect(mixed.data).not.toEqual(plain.data);
  });

  it('hires-fix with bislerp latent upscaling keeps the class', async () => {
    let edited = 0;
    const img = await run('hires-fix', (wf) => {
      for (const n of Object.values(wf)) if (n.class_type === 'LatentUpscale') (n.inputs.upscale_method = 'bislerp'), edited++;
    });
    expect(edited).toBe(1);
    expect((await classify(pool(), img)).label).toBe('purple cross');
  });

  it('turbo (SamplerCustom + SDTurboScheduler) draws a yellow square', async () => {
    expect((await classify(pool(), await run('turbo'))).label).toBe('yellow square');
  });

  it('area composition puts red on the left and blue on the right', async () => {
    const img = await run('area-composition');
    const redness = (c: number[]) => c[0] - (c[1] + c[2]) / 2;
    const blueness = (c: number[]) => c[2] - (c[0] + c[1]) / 2;
    const left = meanColour(img, (_y, x) => x < 128);
    const right = meanColour(img, (_y, x) => x >= 128);
    expect(redness(left)).toBeGreaterThan(redness(right) + 0.05);
    expect(blueness(right)).toBeGreaterThan(blueness(left) + 0.05);
  });

  it("mask composition (ConditioningSetMask, 'mask bounds', from LoadImageMask) puts red on the left and blue on the right", async () => {
    // A 256x128 mask picture: red channel 255 on the left half, 0 on the right.
    const px = Buffer.alloc(256 * 128 * 3);
    for (let p = 0; p < 256 * 128; p++) if (p % 256 < 128) px[p * 3] = 255;
    await writeFile(path.join(base, 'input', 'left-half.png'), await sharp(px, { raw: { width: 256, height: 128, channels: 3 } }).png().toBuffer());
    let masked = 0;
    const img = await run('area-composition', (wf) => {
      wf['30'] = { class_type: 'LoadImageMask', inputs: { image: 'left-half.png', channel: 'red' } };
      wf['31'] = { class_type: 'InvertMask', inputs: { mask: ['30', 0] } };
      for (const [id, mask] of [['22', ['30', 0]], ['23', ['31', 0]]] as const) {
        const n = wf[id]!;
        wf[id] = { class_type: 'ConditioningSetMask', inputs: { conditioning: n.inputs.conditioning, mask, strength: 1, set_cond_area: 'mask bounds' } };
        masked++;
      }
    });
    expect(masked).toBe(2);
    const redness = (c: number[]) => c[0] - (c[1] + c[2]) / 2;
    const blueness = (c: number[]) => c[2] - (c[0] + c[1]) / 2;
    const left = meanColour(img, (_y, x) => x < 128);
    const right = meanColour(img, (_y, x) => x >= 128);
    expect(redness(left)).toBeGreaterThan(redness(right) + 0.05);
    expect(blueness(right)).toBeGreaterThan(blueness(left) + 0.05);
  });

  it('outpaint (ImagePadForOutpaint) extends the red-circle picture by 128 px of background and keeps the original', async () => {
    const img = await run('outpaint');
    expect(img.shape).toEqual([1, 256, 384, 3]);
    const input = (await decodeImage(await readFile(path.join(base, 'input', 'toyworld-red-circle.png')))).image;
    // Away from the feathered seam the original is kept.
    let diff = 0;
    let n = 0;
    for (let y = 0; y < 256; y++) {
      for (let x = 0; x < 200; x++) {
        for (let c = 0; c < 3; c++) diff += Math.abs(img.data[(y * 384 + x) * 3 + c]! - input.data[(y * 256 + x) * 3 + c]!);
        n += 3;
      }
    }
    expect(diff / n).toBeLessThan(0.05);
    // The new strip is the background, not the grey padding (0.5) nor a shape.
    const bg = meanColour(input, (y, x) => y < 16 && x < 16);
    const strip = meanColour(img, (_y, x) => x >= 272);
    for (let c = 0; c < 3; c++) expect(Math.abs(strip[c]! - bg[c]!)).toBeLessThan(0.08);
  });

  it('inpaint keeps the unmasked left half', async () => {
    const img = await run('inpaint');
    const [r, g, b] = meanColour(img, (y, x) => Math.hypot(x - 32, y - 64) < 14);
    expect(r).toBeGreaterThan(0.7);
    expect(g + b).toBeLessThan(0.5);
  });
});
