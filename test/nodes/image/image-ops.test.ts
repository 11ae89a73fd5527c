import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHost, type Host } from '../../../host/host.js';
import { Tensor } from '../../../runtime/tensor.js';
import { EmptyImage, ImageCrop, ImagePadForOutpaint, ImageScaleBy, outpaintMask, pythonRound } from '../../../nodes/image/image-ops.js';
import { tempDir } from '../../fixtures/temp-dir.js';
import { nodeContext, runOutput } from '../../fixtures/run-node.js';

const runOut = runOutput;

/** A [B,H,W,C] image whose pixel (b,y,x,c) holds `f`. */
function image(b: number, h: number, w: number, c: number, f: (b: number, y: number, x: number, c: number) => number): Tensor {
  const data = new Float32Array(b * h * w * c);
  for (let n = 0; n < b; n++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) data[((n * h + y) * w + x) * c + k] = f(n, y, x, k);
  return new Tensor('float32', data, [b, h, w, c]);
}

/** ImagePadForOutpaint's two outputs. */
async function pad(inputs: Record<string, unknown>) {
  return { IMAGE: await runOut(ImagePadForOutpaint, inputs, 'IMAGE'), MASK: await runOut(ImagePadForOutpaint, inputs, 'MASK') };
}

let host: Host;
beforeAll(async () => {
  host = await createHost({ baseDir: tempDir('lf-image-ops-') });
});
afterAll(() => host?.close());

describe('ImageScaleBy', () => {
  it('rounds sides as Python does (3 x 1.5 = 4.5 -> 4) and resamples with torch nearest-exact', async () => {
    expect(pythonRound(4.5)).toBe(4);
    expect(pythonRound(5.5)).toBe(6);
    expect(pythonRound(3.2)).toBe(3);
    const img = image(1, 2, 3, 1, (_b, y, x) => y * 3 + x);
    const out = (await runOut(ImageScaleBy, { image: img, upscale_method: 'nearest-exact', scale_by: 1.5 }, 'IMAGE'));
    expect(out.shape).toEqual([1, 3, 4, 1]);
    // torch nearest-exact: source index floor((o + 0.5) * in / out).
    expect(Array.from(out.data)).toEqual([0, 1, 1, 2, 3, 4, 4, 5, 3, 4, 4, 5]);
  });

  it('refuses a factor that leaves no pixels', () => {
    expect(() => ImageScaleBy.run(nodeContext(), { image: image(1, 2, 3, 3, () => 0), upscale_method: 'bilinear', scale_by: 0.1 })).toThrow(/scale_by/);
  });
});

describe('EmptyImage', () => {
  it('fills with the 0xRRGGBB colour split into channels / 255', async () => {
    const out = (await runOut(EmptyImage, { width: 3, height: 2, batch_size: 2, color: 0xff8000 }, 'IMAGE'));
    expect(out.shape).toEqual([2, 2, 3, 3]);
    for (let p = 0; p < 12; p++) expect([out.data[p * 3], out.data[p * 3 + 1], out.data[p * 3 + 2]]).toEqual([1, Math.fround(128 / 255), 0]);
  });
});

describe('ImagePadForOutpaint', () => {
  it('pads with 0.5 and feathers the mask as ((f - d) / f)^2 towards padded sides only', async () => {
    const img = image(1, 5, 6, 1, (_b, y, x) => (y * 6 + x) / 100);
    const out = await pad({ image: img, left: 2, top: 0, right: 0, bottom: 1, feathering: 2 });
    expect(out.IMAGE.shape).toEqual([1, 6, 8, 1]);
    expect(out.MASK.shape).toEqual([1, 6, 8]);
    const px = (y: number, x: number) => out.IMAGE.data[y * 8 + x];
    expect(px(0, 0)).toBe(0.5);
    expect(px(5, 7)).toBe(0.5);
    expect(px(0, 2)).toBe(Math.fround(0));
    expect(px(4, 7)).toBe(Math.fround(0.29));
    // Hand-computed: d = min(y from the bottom edge 5 - i, x from the left edge j); top and right are not padded.
    const inner = [
      [1, 0.25, 0, 0, 0, 0],
      [1, 0.25, 0, 0, 0, 0],
      [1, 0.25, 0, 0, 0, 0],
      [1, 0.25, 0, 0, 0, 0],
      [1, 0.25, 0.25, 0.25, 0.25, 0.25],
    ];
    const expected = [...inner.map((row) => [1, 1, ...row]), new Array(8).fill(1)];
    expect(Array.from(out.MASK.data)).toEqual(expected.flat());
  });

  it('does not feather when twice the feathering reaches a side, and keeps the batch', async () => {
    const out = await pad({ image: image(2, 5, 6, 3, () => 0.2), left: 0, top: 1, right: 1, bottom: 0, feathering: 3 });
    expect(out.IMAGE.shape).toEqual([2, 6, 7, 3]);
    const m = outpaintMask(5, 6, { left: 0, top: 1, right: 1, bottom: 0 }, 3);
    expect(Array.from(out.MASK.data)).toEqual(Array.from(m.data));
    for (let y = 0; y < 6; y++) for (let x = 0; x < 7; x++) expect(m.data[y * 7 + x]).toBe(y === 0 || x === 6 ? 1 : 0);
    // Second batch row, first inner pixel.
    expect(out.IMAGE.data[((1 * 6 + 1) * 7 + 0) * 3]).toBe(Math.fround(0.2));
  });

  it('with no padding and no feathering gives the image and an all-zero mask', async () => {
    const img = image(1, 2, 3, 3, (_b, y, x, c) => y + x + c);
    const out = await pad({ image: img, left: 0, top: 0, right: 0, bottom: 0, feathering: 0 });
    expect(Array.from(out.IMAGE.data)).toEqual(Array.from(img.data));
    expect(Array.from(out.MASK.data)).toEqual([0, 0, 0, 0, 0, 0]);
  });
});

describe('ImageCrop', () => {
  const img = image(2, 3, 4, 1, (b, y, x) => b * 100 + y * 4 + x);
  it('cuts the window and stops at the picture edge', async () => {
    const out = (await runOut(ImageCrop, { image: img, width: 5, height: 1, x: 2, y: 1 }, 'IMAGE'));
    expect(out.shape).toEqual([2, 1, 2, 1]);
    expect(Array.from(out.data)).toEqual([6, 7, 106, 107]);
  });
  it('clamps x and y past the end to the last pixel', async () => {
    const out = (await runOut(ImageCrop, { image: img, width: 2, height: 2, x: 10, y: 10 }, 'IMAGE'));
    expect(out.shape).toEqual([2, 1, 1, 1]);
    expect(Array.from(out.data)).toEqual([11, 111]);
  });
});

describe('through the engine', () => {
  it("publishes ComfyUI's inputs", () => {
    const info = host.engine.objectInfo();
    expect(info.ImageScaleBy).toMatchObject({ display_name: 'Upscale Image By', category: 'image/upscaling', output: ['IMAGE'] });
    expect(info.ImageScaleBy!.input_order.required).toEqual(['image', 'upscale_method', 'scale_by']);
    expect(info.ImageScaleBy!.input.required.upscale_method![0]).toEqual(['nearest-exact', 'bilinear', 'area', 'bicubic', 'lanczos']);
    expect(info.ImageScaleBy!.input.required.scale_by![1]).toMatchObject({ default: 1, min: 0.01, max: 8, step: 0.01 });
    expect(info.EmptyImage!.input_order.required).toEqual(['width', 'height', 'batch_size', 'color']);
    expect(info.EmptyImage!.input.required.color![1]).toMatchObject({ default: 0, min: 0, max: 0xffffff, step: 1 });
    expect(info.ImagePadForOutpaint).toMatchObject({ display_name: 'Pad Image for Outpainting', category: 'image', output: ['IMAGE', 'MASK'], output_name: ['IMAGE', 'MASK'] });
    expect(info.ImagePadForOutpaint!.input_order.required).toEqual(['image', 'left', 'top', 'right', 'bottom', 'feathering']);
    expect(info.ImagePadForOutpaint!.input.required.left![1]).toMatchObject({ default: 0, min: 0, max: 16384, step: 8 });
    expect(info.ImagePadForOutpaint!.input.required.feathering![1]).toMatchObject({ default: 40, min: 0, max: 16384, step: 1 });
    expect(info.ImageCrop).toMatchObject({ category: 'image/transform', output: ['IMAGE'] });
    expect(info.ImageCrop!.input_order.required).toEqual(['image', 'width', 'height', 'x', 'y']);
  });

  it('infers the shapes run produces', async () => {
    const wf = {
      1: { class_type: 'EmptyImage', inputs: { width: 7, height: 5, batch_size: 2, color: 0 } },
      2: { class_type: 'ImageScaleBy', inputs: { image: ['1', 0], upscale_method: 'bilinear', scale_by: 1.5 } },
      3: { class_type: 'ImagePadForOutpaint', inputs: { image: ['2', 0], left: 8, top: 0, right: 16, bottom: 8, feathering: 2 } },
      4: { class_type: 'ImageCrop', inputs: { image: ['3', 0], width: 20, height: 4, x: 30, y: 3 } },
    };
    const shapes = await host.engine.inferShapes(wf);
    const a = (await runOut(EmptyImage, { width: 7, height: 5, batch_size: 2, color: 0 }, 'IMAGE'));
    const b = (await runOut(ImageScaleBy, { image: a, upscale_method: 'bilinear', scale_by: 1.5 }, 'IMAGE'));
    const c = await pad({ image: b, left: 8, top: 0, right: 16, bottom: 8, feathering: 2 });
    const d = (await runOut(ImageCrop, { image: c.IMAGE, width: 20, height: 4, x: 30, y: 3 }, 'IMAGE'));
    expect(b.shape).toEqual([2, 8, 10, 3]);
    expect(shapes).toEqual({ 1: [a.shape], 2: [b.shape], 3: [c.IMAGE.shape, c.MASK.shape], 4: [d.shape] });
  });
});
