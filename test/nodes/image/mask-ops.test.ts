import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { createHost, type Host } from '../../../host/host.js';
import { Tensor } from '../../../runtime/tensor.js';
import { GrowMask, ImageToMask, InvertMask, LoadImageMask, MaskToImage, SolidMask } from '../../../nodes/image/mask-ops.js';
import { LoadImage } from '../../../nodes/image/load-save.js';
import type { NodeContext } from '../../../engine/index.js';
import { tempDir } from '../../fixtures/temp-dir.js';
import { nodeContext, runOutput } from '../../fixtures/run-node.js';

let host: Host;
let ctx: NodeContext;

const runOut: typeof runOutput = (def, inputs, name) => runOutput(def, inputs, name, ctx);

// A 3x2 RGBA picture: pixel i has r = 10i, g = 20i + 5, b = 255 - 30i, a = 40i + 15.
const W = 3;
const H = 2;
const rgba = Buffer.alloc(W * H * 4);
for (let i = 0; i < W * H; i++) rgba.set([10 * i, 20 * i + 5, 255 - 30 * i, 40 * i + 15], i * 4);

beforeAll(async () => {
  host = await createHost({ baseDir: tempDir('lf-mask-ops-') });
  ctx = nodeContext({ services: host.services });
  await mkdir(path.join(host.folders.input, 'sub'), { recursive: true });
  await writeFile(path.join(host.folders.input, 'rgba.png'), await sharp(rgba, { raw: { width: W, height: H, channels: 4 } }).png().toBuffer());
  const rgb = Buffer.alloc(W * H * 3, 200);
  await writeFile(path.join(host.folders.input, 'sub', 'rgb.png'), await sharp(rgb, { raw: { width: W, height: H, channels: 3 } }).png().toBuffer());
});
afterAll(() => host?.close());

const mask = (values: number[], shape: number[]) => new Tensor('float32', Float32Array.from(values), shape);

describe('LoadImageMask', () => {
  it('takes 1 - alpha for alpha and the raw value for red, green, blue', async () => {
    const f = (k: number) => Array.from({ length: W * H }, (_, i) => Math.fround(rgba[i * 4 + k]! / 255));
    const alpha = (await runOut(LoadImageMask, { image: 'rgba.png', channel: 'alpha' }, 'MASK'));
    expect(alpha.shape).toEqual([1, H, W]);
    expect(Array.from(alpha.data)).toEqual(Array.from({ length: W * H }, (_, i) => Math.fround(1 - rgba[i * 4 + 3]! / 255)));
    expect(Array.from((await runOut(LoadImageMask, { image: 'rgba.png', channel: 'red' }, 'MASK')).data)).toEqual(f(0));
    expect(Array.from((await runOut(LoadImageMask, { image: 'rgba.png', channel: 'green' }, 'MASK')).data)).toEqual(f(1));
    expect(Array.from((await runOut(LoadImageMask, { image: 'rgba.png', channel: 'blue' }, 'MASK')).data)).toEqual(f(2));
  });

  it('gives a zero mask of the picture size for alpha of a picture without alpha (ComfyUI converts to RGBA)', async () => {
    const out = (await runOut(LoadImageMask, { image: 'sub/rgb.png', channel: 'alpha' }, 'MASK'));
    expect(out.shape).toEqual([1, H, W]);
    expect(Array.from(out.data)).toEqual(new Array(W * H).fill(0));
    const red = (await runOut(LoadImageMask, { image: 'sub/rgb.png [input]', channel: 'red' }, 'MASK'));
    expect(Array.from(red.data)).toEqual(new Array(W * H).fill(Math.fround(200 / 255)));
  });

  it("shares LoadImage's choices, upload flag, fingerprint and infers its size", async () => {
    const info = host.engine.objectInfo();
    expect(info.LoadImageMask).toMatchObject({ display_name: 'Load Image (as Mask)', category: 'mask', output: ['MASK'] });
    expect(info.LoadImageMask!.input_order.required).toEqual(['image', 'channel']);
    expect(info.LoadImageMask!.input.required.image).toEqual(info.LoadImage!.input.required.image);
    expect(info.LoadImageMask!.input.required.image![0]).toEqual(['rgba.png', 'sub/rgb.png']);
    expect(info.LoadImageMask!.input.required.channel![0]).toEqual(['alpha', 'red', 'green', 'blue']);
    expect(await LoadImageMask.fingerprint!({ image: 'rgba.png', channel: 'red' }, host.services)).toBe(await LoadImage.fingerprint!({ image: 'rgba.png' }, host.services));
    const shapes = await host.engine.inferShapes({ 1: { class_type: 'LoadImageMask', inputs: { image: 'rgba.png', channel: 'red' } } });
    expect(shapes).toEqual({ 1: [[1, H, W]] });
  });

  it('refuses names outside input/', async () => {
    await expect(LoadImageMask.run(ctx, { image: '../escape.png', channel: 'red' })).rejects.toThrow();
  });
});

describe('mask operations', () => {
  it('InvertMask gives 1 - x at any shape', async () => {
    const out = (await runOut(InvertMask, { mask: mask([0, 0.25, 1, 0.5], [2, 2]) }, 'MASK'));
    expect(out.shape).toEqual([2, 2]);
    expect(Array.from(out.data)).toEqual([1, 0.75, 0, 0.5]);
  });

  it('SolidMask fills [1,H,W] with the value', async () => {
    const out = (await runOut(SolidMask, { value: 0.25, width: 3, height: 2 }, 'MASK'));
    expect(out.shape).toEqual([1, 2, 3]);
    expect(Array.from(out.data)).toEqual(new Array(6).fill(0.25));
  });

  it('MaskToImage repeats the mask into three channels, a 2-D mask becoming a batch of one', async () => {
    const out = (await runOut(MaskToImage, { mask: mask([0.1, 0.2], [1, 2]) }, 'IMAGE'));
    expect(out.shape).toEqual([1, 1, 2, 3]);
    expect(Array.from(out.data)).toEqual([0.1, 0.1, 0.1, 0.2, 0.2, 0.2].map(Math.fround));
  });

  it('ImageToMask picks one channel and refuses alpha of an RGB image', async () => {
    const img = mask([1, 2, 3, 4, 5, 6, 7, 8], [2, 1, 1, 4]);
    expect(Array.from((await runOut(ImageToMask, { image: img, channel: 'green' }, 'MASK')).data)).toEqual([2, 6]);
    expect(Array.from((await runOut(ImageToMask, { image: img, channel: 'alpha' }, 'MASK')).data)).toEqual([4, 8]);
    expect(() => ImageToMask.run(ctx, { image: mask([1, 2, 3], [1, 1, 1, 3]), channel: 'alpha' })).toThrow(/channel/);
  });
});

describe('GrowMask (scipy grey_dilation / grey_erosion, 3x3 footprint)', () => {
  const dot = () => {
    const d = new Array(25).fill(0);
    d[12] = 1;
    return mask(d, [1, 5, 5]);
  };
  const grid = (t: Tensor) => Array.from({ length: 5 }, (_, y) => Array.from(t.data.subarray(y * 5, y * 5 + 5)));

  it('grows a dot into a cross with tapered corners and a square without', async () => {
    const cross = (await runOut(GrowMask, { mask: dot(), expand: 1, tapered_corners: true }, 'MASK'));
    expect(grid(cross)).toEqual([[0, 0, 0, 0, 0], [0, 0, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 0, 0], [0, 0, 0, 0, 0]]);
    const square = (await runOut(GrowMask, { mask: dot(), expand: 1, tapered_corners: false }, 'MASK'));
    expect(grid(square)).toEqual([[0, 0, 0, 0, 0], [0, 1, 1, 1, 0], [0, 1, 1, 1, 0], [0, 1, 1, 1, 0], [0, 0, 0, 0, 0]]);
    const diamond = (await runOut(GrowMask, { mask: dot(), expand: 2, tapered_corners: true }, 'MASK'));
    for (let y = 0; y < 5; y++) for (let x = 0; x < 5; x++) expect(diamond.data[y * 5 + x], `${y},${x}`).toBe(Math.abs(y - 2) + Math.abs(x - 2) <= 2 ? 1 : 0);
  });

  it('shrinks with a negative expand, keeps soft values (max/min, not thresholds) and leaves 0 unchanged', async () => {
    const d = new Array(25).fill(0);
    for (let y = 1; y < 4; y++) for (let x = 1; x < 4; x++) d[y * 5 + x] = 1;
    d[0] = 0.5;
    const shrunk = (await runOut(GrowMask, { mask: mask(d, [5, 5]), expand: -1, tapered_corners: true }, 'MASK'));
    expect(shrunk.shape).toEqual([1, 5, 5]);
    expect(Array.from(shrunk.data).map((v, i) => (i === 12 ? v : v === 0))).toEqual(Array.from({ length: 25 }, (_, i) => (i === 12 ? 1 : true)));
    const grown = (await runOut(GrowMask, { mask: mask(d, [5, 5]), expand: 1, tapered_corners: true }, 'MASK'));
    expect([grown.data[1], grown.data[5], grown.data[6]]).toEqual([1, 1, 1]);
    expect(grown.data[0]).toBe(0.5);
    const same = (await runOut(GrowMask, { mask: mask(d, [1, 5, 5]), expand: 0, tapered_corners: false }, 'MASK'));
    expect(Array.from(same.data)).toEqual(d);
  });

  it('erodes an all-ones mask to itself (border pixels see no outside zeros) and stops early on large amounts', async () => {
    const ones = mask(new Array(12).fill(1), [2, 2, 3]);
    const out = (await runOut(GrowMask, { mask: ones, expand: -16384, tapered_corners: false }, 'MASK'));
    expect(out.shape).toEqual([2, 2, 3]);
    expect(Array.from(out.data)).toEqual(new Array(12).fill(1));
  });
});

describe('through the engine', () => {
  it("publishes ComfyUI's inputs and infers the shapes run produces", async () => {
    const info = host.engine.objectInfo();
    expect(info.GrowMask).toMatchObject({ display_name: 'Grow Mask', category: 'mask' });
    expect(info.GrowMask!.input_order.required).toEqual(['mask', 'expand', 'tapered_corners']);
    expect(info.GrowMask!.input.required.expand![1]).toMatchObject({ default: 0, min: -16384, max: 16384, step: 1 });
    expect(info.GrowMask!.input.required.tapered_corners![1]).toMatchObject({ default: true });
    expect(info.SolidMask!.input_order.required).toEqual(['value', 'width', 'height']);
    expect(info.ImageToMask).toMatchObject({ display_name: 'Convert Image to Mask', output: ['MASK'] });
    expect(info.ImageToMask!.input.required.channel![0]).toEqual(['red', 'green', 'blue', 'alpha']);
    expect(info.MaskToImage).toMatchObject({ display_name: 'Convert Mask to Image', output: ['IMAGE'] });
    expect(info.InvertMask).toMatchObject({ display_name: 'InvertMask', category: 'mask' });

    const shapes = await host.engine.inferShapes({
      1: { class_type: 'SolidMask', inputs: { value: 0.5, width: 4, height: 3 } },
      2: { class_type: 'GrowMask', inputs: { mask: ['1', 0], expand: 1, tapered_corners: true } },
      3: { class_type: 'InvertMask', inputs: { mask: ['2', 0] } },
      4: { class_type: 'MaskToImage', inputs: { mask: ['3', 0] } },
      5: { class_type: 'ImageToMask', inputs: { image: ['4', 0], channel: 'blue' } },
    });
    const a = (await runOut(SolidMask, { value: 0.5, width: 4, height: 3 }, 'MASK'));
    const b = (await runOut(GrowMask, { mask: a, expand: 1, tapered_corners: true }, 'MASK'));
    const c = (await runOut(InvertMask, { mask: b }, 'MASK'));
    const d = (await runOut(MaskToImage, { mask: c }, 'IMAGE'));
    const e = (await runOut(ImageToMask, { image: d, channel: 'blue' }, 'MASK'));
    expect(shapes).toEqual({ 1: [a.shape], 2: [b.shape], 3: [c.shape], 4: [d.shape], 5: [e.shape] });
    expect(Array.from(e.data)).toEqual(new Array(12).fill(0.5));
  });
});
