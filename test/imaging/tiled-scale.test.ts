import { describe, expect, it } from 'vitest';
import { featherRamp, roundHalfEven, tiledScale, tiledScaleSteps, tileSpans, TilingError } from '../../imaging/tiled-scale.js';
import { Tensor } from '../../runtime/tensor.js';

/** [1,C,H,W] planes with value f(c, y, x). */
function planes(c: number, h: number, w: number, f: (c: number, y: number, x: number) => number): Tensor<'float32'> {
  const d = new Float32Array(c * h * w);
  for (let k = 0; k < c; k++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) d[(k * h + y) * w + x] = f(k, y, x);
  return new Tensor('float32', d, [1, c, h, w]);
}

/** Nearest x s upsampling of a [1,C,h,w] tile. */
const nearest = (s: number) => async (t: Tensor<'float32'>): Promise<Tensor<'float32'>> => {
  const [, c, h, w] = t.shape as [number, number, number, number];
  return planes(c, h * s, w * s, (k, y, x) => t.data[(k * h + Math.floor(y / s)) * w + Math.floor(x / s)]!);
};

describe('tileSpans (comfy.utils.tiled_scale_multidim positions)', () => {
  it('places tiles every tile - overlap below size - overlap, clamped and cut at the end', () => {
    expect(tileSpans(500, 512, 32)).toEqual([{ pos: 0, len: 500 }]);
    // range(0, 600 - 32, 480) = [0, 480]; the second tile is 120 long.
    expect(tileSpans(600, 512, 32)).toEqual([{ pos: 0, len: 512 }, { pos: 480, len: 120 }]);
    // range(0, 1000 - 64, 448) = [0, 448, 896]
    expect(tileSpans(1000, 512, 64)).toEqual([{ pos: 0, len: 512 }, { pos: 448, len: 512 }, { pos: 896, len: 104 }]);
    // Full tiles (fixed-size models) move the last one back instead.
    expect(tileSpans(150, 64, 16, true)).toEqual([{ pos: 0, len: 64 }, { pos: 48, len: 64 }, { pos: 86, len: 64 }]);
    expect(() => tileSpans(100, 32, 32)).toThrow(TilingError);
  });

  it('counts steps as get_tiled_scale_steps does', () => {
    expect(tiledScaleSteps(600, 520, 512, 512, 32)).toBe(4);
    expect(tiledScaleSteps(256, 256, 512, 512, 32)).toBe(1);
    expect(tiledScaleSteps(1000, 300, 256, 1024, 64)).toBe(5);
  });

  it('ramps masks (t + 1) / feather at both ends and rounds halves to even', () => {
    expect(Array.from(featherRamp(6, 2))).toEqual([0.5, 1, 1, 1, 1, 0.5]);
    expect(Array.from(featherRamp(3, 2))).toEqual([0.5, 1, 0.5]);
    expect(Array.from(featherRamp(2, 2))).toEqual([1, 1]);
    expect([roundHalfEven(2.5), roundHalfEven(3.5), roundHalfEven(-0.5), roundHalfEven(2.4)]).toEqual([2, 4, -0, 2]);
  });
});

describe('tiledScale', () => {
  it('passes an image that fits one tile whole, once', async () => {
    const img = planes(3, 5, 7, (c, y, x) => c + y * 0.1 + x * 0.01);
    let calls = 0;
    const out = await tiledScale(img, async (t) => (calls++, nearest(2)(t)), { tileX: 8, tileY: 8, overlap: 2, scale: 2, outChannels: 3 });
    expect(calls).toBe(1);
    expect(out.shape).toEqual([1, 3, 10, 14]);
    expect(out.data[(1 * 10 + 3) * 14 + 5]).toBeCloseTo(1 + 0.1 + 0.02, 6);
  });

  it('blends overlapping tiles into the untiled result when the function is local', async () => {
    const img = planes(2, 11, 13, (c, y, x) => Math.sin(c + y * 0.7 + x * 0.3));
    const steps: [number, number][] = [];
    const tiled = await tiledScale(img, nearest(3), { tileX: 5, tileY: 6, overlap: 2, scale: 3, outChannels: 2, onTile: (d, t) => steps.push([d, t]) });
    const whole = await nearest(3)(img);
    expect(tiled.shape).toEqual(whole.shape);
    let max = 0;
    for (let i = 0; i < whole.size; i++) max = Math.max(max, Math.abs(tiled.data[i]! - whole.data[i]!));
    expect(max).toBeLessThan(1e-6);
    expect(steps.length).toBe(tiledScaleSteps(13, 11, 5, 6, 2));
    expect(steps.at(-1)).toEqual([steps.length, steps.length]);
  });

  it('weights each tile by its mask: a hand-checked two-tile blend', async () => {
    // 1-D along x: width 6, tile 4, overlap 2 -> tiles at 0 (len 4) and 2 (len 4); scale 1, feather 2.
    // Tile 0 returns 10s, tile 1 returns 20s. Masks: [0.5, 1, 1, 0.5] each.
    // x=0: 10; x=1: 10; x=2: (10*1 + 20*0.5)/1.5; x=3: (10*0.5 + 20*1)/1.5; x=4, 5: 20.
    const img = planes(1, 1, 6, () => 0);
    let call = 0;
    const out = await tiledScale(img, async (t) => {
      const v = call++ === 0 ? 10 : 20;
      return planes(1, 1, t.shape[3]!, () => v);
    }, { tileX: 4, tileY: 4, overlap: 2, scale: 1, outChannels: 1 });
    const want = [10, 10, 20 / 1.5, 25 / 1.5, 20, 20];
    want.forEach((v, i) => expect(out.data[i]).toBeCloseTo(v, 5));
  });

  it('writes the IMAGE layout directly and downsamples (a VAE encoder at 1/8)', async () => {
    const img = planes(3, 16, 24, (c, y, x) => c * 100 + Math.floor(y / 8) * 10 + Math.floor(x / 8));
    const mean8 = async (t: Tensor<'float32'>) => {
      const [, c, h, w] = t.shape as [number, number, number, number];
      return planes(c, h / 8, w / 8, (k, y, x) => {
        let s = 0;
        for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) s += t.data[(k * h + y * 8 + i) * w + x * 8 + j]!;
        return s / 64;
      });
    };
    const out = await tiledScale(img, mean8, { tileX: 16, tileY: 16, overlap: 8, scale: 1 / 8, outChannels: 3, layout: 'nhwc' });
    expect(out.shape).toEqual([1, 2, 3, 3]);
    expect(Array.from(out.data.subarray(0, 6)).map((v) => Math.round(v * 1000) / 1000)).toEqual([0, 100, 200, 1, 101, 201]);
    expect(out.data[(1 * 3 + 2) * 3 + 2]).toBeCloseTo(212, 4);
  });
});
