import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { UPSCALER_FILE } from '../../../toyworld/pack.js';
import { BACKGROUND, colourByName, renderShape, type RgbImage } from '../../../toyworld/world.js';
import { Tensor } from '../../../runtime/tensor.js';
import { resizePlanes } from '../../../imaging/resample.js';
import { toyworldUpscale } from '../../nodes/upscale/helpers.js';
import { zeroShot } from '../clip-helpers.js';
import { floatData, session } from '../helpers.js';

let up: ort.InferenceSession;
beforeAll(async () => {
  up = await session(UPSCALER_FILE);
});

const nchw = (img: RgbImage) => {
  const n = img.width * img.height;
  const d = new Float32Array(3 * n);
  for (let p = 0; p < n; p++) for (let c = 0; c < 3; c++) d[c * n + p] = img.data[p * 3 + c]!;
  return new ort.Tensor('float32', d, [1, 3, img.height, img.width]);
};
const hwc = (d: Float32Array, h: number, w: number): RgbImage => {
  const out = new Float32Array(h * w * 3);
  for (let p = 0; p < h * w; p++) for (let c = 0; c < 3; c++) out[p * 3 + c] = d[c * h * w + p]!;
  return { width: w, height: h, data: out };
};

async function upscale(img: RgbImage): Promise<RgbImage> {
  const out = await up.run({ input: nchw(img) });
  return hwc(floatData(out.output), img.height * 4, img.width * 4);
}

/** Fraction of pixels within 2/255 of one of the given colours in every channel. */
function onPalette(img: RgbImage, colours: readonly (readonly number[])[]): number {
  let hit = 0;
  const n = img.width * img.height;
  for (let p = 0; p < n; p++) {
    if (colours.some((col) => col.every((v, c) => Math.abs(img.data[p * 3 + c]! - v / 255) <= 2 / 255))) hit++;
  }
  return hit / n;
}

describe('toyworld upscaler (upscale_models/toyworld-x4.onnx)', () => {
  it('computes its documented rule exactly (checked against a float64 oracle)', async () => {
    const img = renderShape({ colour: 'green', shape: 'triangle', cx: 0.5, cy: 0.55, size: 0.4, width: 40, height: 30 });
    const got = await upscale(img);
    const want = toyworldUpscale(new Tensor('float32', img.data, [1, 30, 40, 3]), 4);
    let max = 0;
    for (let i = 0; i < want.size; i++) max = Math.max(max, Math.abs(got.data[i]! - want.data[i]!));
    expect(max).toBeLessThan(1e-5);
  });

  it('keeps palette colours and sharp edges: close to the shape drawn at 4x, unlike bilinear', async () => {
    const place = { colour: 'red', shape: 'circle', cx: 0.42, cy: 0.5, size: 0.36 } as const;
    const small = renderShape({ ...place, width: 64, height: 64 });
    const big = renderShape({ ...place, width: 256, height: 256 });
    const got = await upscale(small);
    const planes = new Float32Array(3 * 64 * 64);
    for (let p = 0; p < 4096; p++) for (let c = 0; c < 3; c++) planes[c * 4096 + p] = small.data[p * 3 + c]!;
    const bil = hwc(resizePlanes(new Tensor('float32', planes, [1, 3, 64, 64]), 256, 256, 'bilinear').data, 256, 256);
    const palette = [BACKGROUND, colourByName('red').rgb];
    const mad = (a: RgbImage) => a.data.reduce((s, v, i) => s + Math.abs(v - big.data[i]!), 0) / a.data.length;
    const stats = { model: { onPalette: onPalette(got, palette), mad: mad(got) }, bilinear: { onPalette: onPalette(bil, palette), mad: mad(bil) } };
    console.log(`toyworld-x4 on a red circle 64 -> 256: ${JSON.stringify(stats)}`);
    expect(stats.model.onPalette).toBeGreaterThan(0.985);
    expect(stats.model.onPalette).toBeGreaterThan(stats.bilinear.onPalette);
    expect(stats.model.mad).toBeLessThan(0.01);
    const r = await zeroShot([got]);
    expect(r.best[0]).toBe('red circle');
  });
});
