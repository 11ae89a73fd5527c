/**
 * CLIP preprocessing against values computed independently of nodes/clip: exact crops of unresized
 * pixels, libvips (sharp) antialiased Catmull-Rom reductions, and a slow two-dimensional
 * transcription of Pillow's resampling written here from Pillow's Resample.c.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { pixelValues, shortestEdgeSize } from '../../../nodes/clip/preprocess.js';
import { CLIP_DEFAULTS, imagenetDefaults, parsePreprocessConfig } from '../../../nodes/clip/preprocess-config.js';
import { Tensor } from '../../../runtime/tensor.js';

const MEAN = [0.48145466, 0.4578275, 0.40821073];
const STD = [0.26862954, 0.26130258, 0.27577711];

/** A non-square 8-bit test picture: smooth waves, a ramp and a hard-edged disc. */
function picture(w: number, h: number): Uint8Array {
  const u8 = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      u8[i] = Math.round(127.5 + 127.5 * Math.sin(x / 7 + y / 11));
      u8[i + 1] = Math.round((255 * x) / w);
      u8[i + 2] = (x - w / 2) ** 2 + (y - h / 3) ** 2 < (h / 4) ** 2 ? 240 : 30;
    }
  }
  return u8;
}

const asImage = (u8: Uint8Array, w: number, h: number) => new Tensor('float32', Float32Array.from(u8, (v) => v / 255), [1, h, w, 3]);

/** Pixel (c, y, x) of the model input, back in 8-bit levels. */
const level = (pv: Float32Array, c: number, y: number, x: number, s = 224) => (pv[c * s * s + y * s + x]! * STD[c]! + MEAN[c]!) * 255;

/** Pillow's bicubic (a = -0.5) and its antialiased support, evaluated directly in two dimensions. */
function slowPillowBicubic(u8: Uint8Array, w: number, h: number, ow: number, oh: number): Float64Array {
  const cubic = (x: number) => {
    const t = Math.abs(x);
    return t < 1 ? 1.5 * t ** 3 - 2.5 * t ** 2 + 1 : t < 2 ? -0.5 * t ** 3 + 2.5 * t ** 2 - 4 * t + 2 : 0;
  };
  const taps = (inSize: number, outSize: number, o: number) => {
    const scale = inSize / outSize;
    const fs = Math.max(scale, 1);
    const center = (o + 0.5) * scale;
    const list: { i: number; w: number }[] = [];
    for (let i = 0; i < inSize; i++) {
      const wt = cubic((i + 0.5 - center) / fs);
      if (wt !== 0) list.push({ i, w: wt });
    }
    const sum = list.reduce((a, b) => a + b.w, 0);
    return list.map((t) => ({ i: t.i, w: t.w / sum }));
  };
  const out = new Float64Array(ow * oh * 3);
  for (let y = 0; y < oh; y++) {
    const ty = taps(h, oh, y);
    for (let x = 0; x < ow; x++) {
      const tx = taps(w, ow, x);
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (const a of ty) for (const b of tx) s += a.w * b.w * u8[(a.i * w + b.i) * 3 + c]!;
        out[(y * ow + x) * 3 + c] = s;
      }
    }
  }
  return out;
}

describe('CLIP preprocessing (spec/models.md)', () => {
  it('sizes the shortest side to 224 and truncates the long side', () => {
    expect(shortestEdgeSize(300, 400, 224)).toEqual({ height: 224, width: 298 });
    expect(shortestEdgeSize(451, 300, 224)).toEqual({ height: 336, width: 224 });
    expect(shortestEdgeSize(120, 160, 224)).toEqual({ height: 224, width: 298 });
  });

  it('crops at (W - 224) // 2 without resampling when the short side is already 224', () => {
    const w = 301, h = 224;
    const u8 = picture(w, h);
    const pv = pixelValues(asImage(u8, w, h), CLIP_DEFAULTS).data;
    const left = 38; // (301 - 224) // 2
    for (const [c, y, x] of [[0, 0, 0], [1, 100, 50], [2, 223, 223], [0, 17, 200]] as const) {
      expect(pv[c * 224 * 224 + y * 224 + x]).toBeCloseTo((u8[(y * w + x + left) * 3 + c]! / 255 - MEAN[c]!) / STD[c]!, 5);
    }
  });

  it('crops at (H - 224) // 2 on tall images', () => {
    const w = 224, h = 257;
    const u8 = picture(w, h);
    const pv = pixelValues(asImage(u8, w, h), CLIP_DEFAULTS).data;
    const top = 16; // (257 - 224) // 2
    for (let y = 0; y < 224; y += 37) expect(level(pv, 1, y, 5)).toBeCloseTo(u8[((y + top) * w + 5) * 3 + 1]!, 3);
  });

  it('matches libvips antialiased Catmull-Rom reductions (sharp) on non-square images', async () => {
    for (const [w, h] of [[400, 300], [300, 451]] as const) {
      const u8 = picture(w, h);
      const pv = pixelValues(asImage(u8, w, h), CLIP_DEFAULTS).data;
      const t = shortestEdgeSize(h, w, 224);
      const ref = await sharp(u8, { raw: { width: w, height: h, channels: 3 } }).resize({ width: t.width, height: t.height, fit: 'fill', kernel: 'cubic' }).raw().toBuffer();
      const top = Math.floor((t.height - 224) / 2), left = Math.floor((t.width - 224) / 2);
      let max = 0, sum = 0;
      for (let c = 0; c < 3; c++) {
        for (let y = 0; y < 224; y++) {
          for (let x = 0; x < 224; x++) {
            const d = Math.abs(level(pv, c, y, x) - ref[((y + top) * t.width + x + left) * 3 + c]!);
            max = Math.max(max, d);
            sum += d;
          }
        }
      }
      expect(max).toBeLessThanOrEqual(2.01);
      expect(sum / (3 * 224 * 224)).toBeLessThan(0.2);
    }
  });

  it('matches a direct two-dimensional Pillow bicubic, upscaling and downscaling, to the 8-bit level', () => {
    for (const [w, h] of [[80, 60], [61, 90], [330, 250]] as const) {
      const u8 = picture(w, h);
      const pv = pixelValues(asImage(u8, w, h), CLIP_DEFAULTS).data;
      const t = shortestEdgeSize(h, w, 224);
      const ref = slowPillowBicubic(u8, w, h, t.width, t.height);
      const top = Math.floor((t.height - 224) / 2), left = Math.floor((t.width - 224) / 2);
      let max = 0;
      for (let c = 0; c < 3; c++) {
        for (let y = 0; y < 224; y += 3) {
          for (let x = 0; x < 224; x += 3) {
            const want = Math.min(255, Math.max(0, Math.round(ref[((y + top) * t.width + x + left) * 3 + c]!)));
            max = Math.max(max, Math.abs(level(pv, c, y, x) - want));
          }
        }
      }
      // Rounding ties may land one level apart; anything more is a different resampler.
      expect(max).toBeLessThanOrEqual(1.001);
    }
  });

  it('squashes the whole image with crop "none"', () => {
    const w = 448, h = 224;
    const u8 = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) u8[(y * w + x) * 3] = x < 224 ? 0 : 255;
    const pv = pixelValues(asImage(u8, w, h), CLIP_DEFAULTS, 'none').data;
    expect(level(pv, 0, 100, 10)).toBeCloseTo(0, 3);
    expect(level(pv, 0, 100, 213)).toBeCloseTo(255, 3);
  });

  it('reads mean, std, sizes and filters from preprocessor_config.json', () => {
    const vit = parsePreprocessConfig({ do_resize: true, size: { height: 224, width: 224 }, resample: 2, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5] }, imagenetDefaults());
    expect(vit.resize).toEqual({ kind: 'exact', height: 224, width: 224 });
    expect(vit.crop).toBeUndefined();
    expect(vit.resample).toBe('bilinear');
    expect(vit.mean).toEqual([0.5, 0.5, 0.5]);
    const clip = parsePreprocessConfig({ size: 256, crop_size: 240, resample: 3 }, CLIP_DEFAULTS);
    expect(clip.resize).toEqual({ kind: 'shortest_edge', size: 256 });
    expect(clip.crop).toEqual({ height: 240, width: 240 });
    expect(clip.std).toEqual(CLIP_DEFAULTS.std);
    expect(() => parsePreprocessConfig({ rescale_factor: 1 }, CLIP_DEFAULTS)).toThrow(/rescale_factor/);
    expect(() => parsePreprocessConfig({ resample: 9 }, CLIP_DEFAULTS)).toThrow(/resample/);
  });

  it('uses the first three channels of RGBA images', () => {
    const rgba = new Tensor('float32', new Float32Array(224 * 224 * 4).map((_, i) => (i % 4 === 3 ? 0 : 0.5)), [1, 224, 224, 4]);
    const pv = pixelValues(rgba, CLIP_DEFAULTS).data;
    expect(level(pv, 0, 5, 5)).toBeCloseTo(128, 3);
  });
});
