import { describe, expect, it } from 'vitest';
import { Tensor } from '../../../runtime/tensor.js';
import {
  ImageBlend, ImageBlur, ImageQuantize, ImageScaleToTotalPixels, ImageSharpen, blendValue, gaussianTaps, totalPixelsSize,
} from '../../../nodes/image/filters.js';
import { ImageCompositeMasked, compositeImages } from '../../../nodes/image/composite.js';
import { nodeContext, runOutput } from '../../fixtures/run-node.js';

/** A [B,H,W,C] image whose pixel (b,y,x,c) holds `f`. */
function image(b: number, h: number, w: number, c: number, f: (b: number, y: number, x: number, c: number) => number): Tensor<'float32'> {
  const data = new Float32Array(b * h * w * c);
  for (let n = 0; n < b; n++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) data[((n * h + y) * w + x) * c + k] = f(n, y, x, k);
  return new Tensor('float32', data, [b, h, w, c]);
}
const at = (t: Tensor<'float32'>, y: number, x: number, c = 0) => t.data[(y * t.shape[2]! + x) * t.shape[3]! + c]!;

// gaussian_kernel(3, 1.0): linspace(-1, 1, 3) -> weights e^-1/2, 1, e^-1/2 per axis, normalised.
const E = Math.exp(-0.5);
const A = E / (1 + 2 * E); // 0.274069
const C = 1 / (1 + 2 * E); // 0.451863

describe('ImageBlur / ImageSharpen (nodes_post_processing.py, reflect padding)', () => {
  it('uses the normalised Gaussian over linspace(-1, 1, 2r + 1)', () => {
    const t = gaussianTaps(3, 1);
    expect(t[0]).toBeCloseTo(A, 12);
    expect(t[1]).toBeCloseTo(C, 12);
    expect(gaussianTaps(5, 0.5).reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
  });

  it('blurs a centred point of a 3x3 image: the kernel, folded by reflection at the borders', async () => {
    const img = image(1, 3, 3, 1, (_b, y, x) => (y === 1 && x === 1 ? 1 : 0));
    const out = await runOutput(ImageBlur, { image: img, blur_radius: 1, sigma: 1 }, 'IMAGE');
    expect(at(out, 1, 1)).toBeCloseTo(C * C, 6); // 0.204180
    expect(at(out, 0, 1)).toBeCloseTo(2 * A * C, 6); // reflect(-1) = row 1: 0.247684
    expect(at(out, 0, 0)).toBeCloseTo(4 * A * A, 6); // 0.300456
    expect(() => ImageBlur.run(nodeContext(), { image: img, blur_radius: 3, sigma: 1 })).toThrow(/radius of 3/);
  });

  it('sharpens as (1 + 10a) x image - 10a x blur, clamped', async () => {
    const img = image(1, 3, 3, 1, (_b, y, x) => 0.5 + (y === 1 && x === 1 ? 0.01 : 0));
    const out = await runOutput(ImageSharpen, { image: img, sharpen_radius: 1, sigma: 1, alpha: 1 }, 'IMAGE');
    expect(at(out, 1, 1)).toBeCloseTo(0.5 + 0.01 * (11 - 10 * C * C), 6); // 0.589582
    expect(at(out, 0, 1)).toBeCloseTo(0.5 - 0.1 * 2 * A * C, 6); // 0.475232
    expect(at(out, 0, 0)).toBeCloseTo(0.5 - 0.1 * 4 * A * A, 6); // 0.469954
    const hard = await runOutput(ImageSharpen, { image: image(1, 3, 3, 1, (_b, y, x) => (y === 1 && x === 1 ? 1 : 0)), sharpen_radius: 1, sigma: 1, alpha: 1 }, 'IMAGE');
    expect([at(hard, 1, 1), at(hard, 0, 1)]).toEqual([1, 0]);
  });
});

describe('ImageBlend', () => {
  it('mixes image1 with the blend of both by blend_factor, clamped', async () => {
    const one = image(1, 1, 1, 3, (_b, _y, _x, c) => [0.2, 0.6, 0.8][c]!);
    const two = image(1, 1, 1, 3, (_b, _y, _x, c) => [0.5, 0.3, 0.9][c]!);
    const run = async (mode: string) => Array.from((await runOutput(ImageBlend, { image1: one, image2: two, blend_factor: 0.5, blend_mode: mode }, 'IMAGE')).data);
    const close = (got: number[], want: number[]) => want.forEach((v, i) => expect(got[i]).toBeCloseTo(v, 6));
    close(await run('normal'), [0.35, 0.45, 0.85]);
    close(await run('multiply'), [0.15, 0.39, 0.76]);
    close(await run('screen'), [0.4, 0.66, 0.89]);
    close(await run('overlay'), [0.2, 0.52, 0.88]);
    // soft_light: b <= 0.5 -> a - (1 - 2b) a (1 - a); b > 0.5 -> a + (2b - 1)(sqrt(a) - a) (a > 0.25).
    close(await run('soft_light'), [0.2, 0.3 + 0.5 * (0.6 - 0.4 * 0.6 * 0.4), 0.4 + 0.5 * (0.8 + 0.8 * (Math.sqrt(0.8) - 0.8))]);
    close(await run('difference'), [0, 0.45, 0.35]);
    expect(blendValue(0.1, 0.2, 'soft_light')).toBeCloseTo(0.1 - 0.6 * 0.1 * 0.9, 12);
  });

  it("keeps image1's alpha, pads a 3-channel image2 with opaque alpha, resizes image2 to image1", async () => {
    const one = image(1, 4, 4, 4, (_b, _y, _x, c) => (c === 3 ? 0.25 : 0.2));
    const two = image(1, 2, 2, 3, () => 0.6);
    const out = await runOutput(ImageBlend, { image1: one, image2: two, blend_factor: 1, blend_mode: 'normal' }, 'IMAGE');
    expect(out.shape).toEqual([1, 4, 4, 4]);
    expect(at(out, 2, 3, 0)).toBeCloseTo(0.6, 6);
    expect(at(out, 2, 3, 3)).toBe(0.25);
    expect(ImageBlend.infer!({}, { image1: [1, 4, 4, 4], image2: [3, 2, 2, 3] }, undefined!)).toEqual({ IMAGE: [3, 4, 4, 4] });
  });
});

describe('ImageScaleToTotalPixels', () => {
  it('scales to megapixels x 2^20 pixels, sides rounded (half to even) to multiples of resolution_steps', async () => {
    // 100x50, 0.01 MP = 10485.76 px: scale sqrt(10485.76 / 5000) = 1.4482 -> 144.8 x 72.4.
    expect(totalPixelsSize(50, 100, 0.01, 1)).toEqual([72, 145]);
    expect(totalPixelsSize(50, 100, 0.01, 8)).toEqual([72, 144]);
    expect(totalPixelsSize(512, 512, 1, 1)).toEqual([1024, 1024]);
    const out = await runOutput(ImageScaleToTotalPixels, { image: image(1, 50, 100, 3, () => 0.3), upscale_method: 'bilinear', megapixels: 0.01, resolution_steps: 8 }, 'IMAGE');
    expect(out.shape).toEqual([1, 72, 144, 3]);
    expect(at(out, 30, 70, 2)).toBeCloseTo(0.3, 6);
    expect(ImageScaleToTotalPixels.infer!({ megapixels: 0.01, resolution_steps: 8 }, { image: [2, 50, 100, 3] }, undefined!)).toEqual({ IMAGE: [2, 72, 144, 3] });
    expect(() => ImageScaleToTotalPixels.run(nodeContext(), { image: image(1, 50, 100, 3, () => 0), upscale_method: 'area', megapixels: 0.01, resolution_steps: 256 })).toThrow(/no pixels/);
  });
});

describe('ImageCompositeMasked (nodes_mask.py composite, multiplier 1)', () => {
  const dest = image(1, 4, 5, 3, () => 0);
  const src = image(1, 2, 2, 3, (_b, y, x) => 0.1 + 0.2 * y + 0.4 * x);

  it('pastes the source at (x, y), cut at the destination edge', async () => {
    const out = await runOutput(ImageCompositeMasked, { destination: dest, source: src, x: 4, y: 1, resize_source: false }, 'IMAGE');
    expect(at(out, 1, 4)).toBeCloseTo(0.1, 6);
    expect(at(out, 2, 4)).toBeCloseTo(0.3, 6);
    expect(at(out, 1, 3)).toBe(0);
    expect(Array.from(out.data).filter((v) => v !== 0)).toHaveLength(6);
  });

  it('weights by the mask (resized bilinearly to the source): mask x source + (1 - mask) x destination', async () => {
    const grey = image(1, 4, 5, 3, () => 1);
    const mask = new Tensor('float32', Float32Array.from([1, 0, 0.5, 1]), [1, 2, 2]);
    const out = compositeImages(grey, src, 1, 0, false, mask);
    expect(at(out, 0, 1)).toBeCloseTo(0.1, 6);
    expect(at(out, 0, 2)).toBe(1);
    expect(at(out, 1, 1)).toBeCloseTo(0.5 * 0.3 + 0.5, 6);
    expect(at(out, 1, 2)).toBeCloseTo(0.7, 6);
  });

  it('resizes the source to the destination, repeats it over the batch, fixes channels', async () => {
    const dest2 = image(2, 4, 4, 4, (b, _y, _x, c) => (c === 3 ? 0.5 : b));
    const out = compositeImages(dest2, image(1, 2, 2, 3, () => 0.75), 0, 0, true);
    expect(out.shape).toEqual([2, 4, 4, 4]);
    expect(at(out, 3, 3, 1)).toBeCloseTo(0.75, 6);
    // The source gained an opaque alpha channel, pasted over the destination's.
    expect(out.data[(((1 * 4 + 2) * 4 + 2) * 4) + 3]).toBe(1);
    expect(ImageCompositeMasked.infer!({}, { destination: [2, 4, 4, 4], source: [1, 2, 2, 3] }, undefined!)).toEqual({ IMAGE: [2, 4, 4, 4] });
  });
});

describe('ImageQuantize', () => {
  it('reduces to a median-cut palette per image and keeps alpha', async () => {
    const cols = [[1, 0, 0], [1, 0, 0], [0, 0, 1], [235 / 255, 235 / 255, 230 / 255]];
    const img = image(1, 1, 4, 4, (_b, _y, x, c) => (c === 3 ? 0.5 : cols[x]![c]!));
    const out = await runOutput(ImageQuantize, { image: img, colors: 2, dither: 'none' }, 'IMAGE');
    // Red and blue share a box (170, 0, 85); the grey keeps its own.
    expect(Array.from(out.data).map((v) => Math.round(v * 255))).toEqual([170, 0, 85, 128, 170, 0, 85, 128, 170, 0, 85, 128, 235, 235, 230, 128]);
    const same = await runOutput(ImageQuantize, { image: img, colors: 256, dither: 'floyd-steinberg' }, 'IMAGE');
    expect(Array.from(same.data).map((v) => Math.round(v * 255))).toEqual(Array.from(img.data).map((v) => Math.round(v * 255)));
  });
});
