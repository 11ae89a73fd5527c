import { describe, expect, it } from 'vitest';
import { bislerp } from '../../imaging/bislerp.js';
import { commonUpscale } from '../../imaging/resample.js';
import { Tensor } from '../../runtime/tensor.js';

const s = Math.sin;
const Q = Math.PI / 2;

describe('bislerp (ComfyUI comfy/utils.py)', () => {
  it('slerps the channel vector between neighbours and lerps its length (hand-computed 1x2 -> 1x4)', () => {
    // Two pixels, two channels: (1, 0) and (0, 2); NCHW.
    const t = new Tensor('float32', Float32Array.from([1, 0, 0, 2]), [1, 2, 1, 2]);
    const out = bislerp(t, 4, 1);
    expect(out.shape).toEqual([1, 2, 1, 4]);
    // Sources 0, 0.25, 0.75 and (clamped) 1; at ratio 0 the first neighbour is taken as is.
    const expected = [
      [1, 0],
      [s(0.75 * Q) * 1.25, s(0.25 * Q) * 1.25],
      [s(0.25 * Q) * 1.75, s(0.75 * Q) * 1.75],
      [0, 2],
    ];
    expected.forEach(([c0, c1], x) => {
      expect(out.data[x]).toBeCloseTo(c0!, 5);
      expect(out.data[4 + x]).toBeCloseTo(c1!, 5);
    });
  });

  it('keeps the first neighbour where directions agree, and lerps opposite vectors', () => {
    const same = bislerp(new Tensor('float32', Float32Array.from([1, 3, 1, 3]), [1, 2, 1, 2]), 4, 1);
    expect(Array.from(same.data)).toEqual([1, 1, 1, 3, 1, 1, 1, 3]);
    const opposite = bislerp(new Tensor('float32', Float32Array.from([1, -1]), [1, 1, 1, 2]), 4, 1);
    expect(Array.from(opposite.data)).toEqual([1, 0.5, -0.5, -1]);
  });

  it('is the identity at the same size, and upscales a batch along both axes', () => {
    const data = Float32Array.from({ length: 2 * 4 * 3 * 5 }, (_, i) => Math.sin(i * 1.7) + 0.1);
    const t = new Tensor('float32', data, [2, 4, 3, 5]);
    Array.from(bislerp(t, 5, 3).data).forEach((v, i) => expect(v).toBeCloseTo(data[i]!, 6));
    const up = commonUpscale(t, 10, 6, 'bislerp', 'disabled');
    expect(up.shape).toEqual([2, 4, 6, 10]);
    // Every output vector's length lies between its neighbours' lengths, so it stays in the input's range.
    const norms = (x: Tensor<'float32'>, n: number, h: number, w: number) =>
      Array.from({ length: n * h * w }, (_, i) => {
        const b = Math.floor(i / (h * w));
        const p = i % (h * w);
        let sum = 0;
        for (let c = 0; c < 4; c++) sum += x.data[(b * 4 + c) * h * w + p]! ** 2;
        return Math.sqrt(sum);
      });
    const before = norms(t, 2, 3, 5);
    for (const v of norms(up, 2, 6, 10)) {
      expect(v).toBeGreaterThanOrEqual(Math.min(...before) - 1e-5);
      expect(v).toBeLessThanOrEqual(Math.max(...before) + 1e-5);
    }
  });
});
