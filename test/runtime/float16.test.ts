import { describe, expect, it } from 'vitest';
import { f16BitsToF32Bits, float16ToFloat32, float32ToFloat16, fromHalf, toHalf } from '../../runtime/float16.js';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const bitsOf = (x: number): number => {
  f32[0] = x;
  return u32[0];
};

/** Reference decoder by the definition: (-1)^s * 2^(e-15) * (1 + m/1024), subnormals 2^-14 * m/1024. */
function halfValue(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0x1f) return m ? NaN : s * Infinity;
  if (e === 0) return s * 2 ** -14 * (m / 1024);
  return s * 2 ** (e - 15) * (1 + m / 1024);
}

describe('float16', () => {
  it('decodes all 65536 half values exactly and round-trips their bits', () => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const asF32 = float16ToFloat32(all);
    const back = float32ToFloat16(asF32);
    for (let h = 0; h < 65536; h++) {
      const want = halfValue(h);
      const ok = Number.isNaN(want) ? Number.isNaN(asF32[h]) : Object.is(asF32[h], want);
      if (!ok) throw new Error(`half 0x${h.toString(16)} decoded to ${asF32[h]}, want ${want}`);
      if (back[h] !== h) throw new Error(`half 0x${h.toString(16)} came back as 0x${back[h].toString(16)}`);
    }
    expect(Object.is(fromHalf(0x8000), -0)).toBe(true);
  });

  it('rounds to nearest, ties to even, for every midpoint between adjacent finite halves', () => {
    for (let h = 0; h < 0x7bff; h++) {
      const lo = halfValue(h);
      const hi = halfValue(h + 1);
      const mid = (lo + hi) / 2; // exact in binary32 for every pair of finite halves
      const even = (h & 1) === 0 ? h : h + 1;
      if (toHalf(mid) !== even) throw new Error(`midpoint of 0x${h.toString(16)} rounded to 0x${toHalf(mid).toString(16)}`);
      // Just above / below the midpoint go up / down.
      f32[0] = mid;
      const above = u32[0] + 1;
      const below = u32[0] - 1;
      u32[0] = above;
      if (toHalf(f32[0]) !== h + 1) throw new Error(`above midpoint of 0x${h.toString(16)}`);
      u32[0] = below;
      if (toHalf(f32[0]) !== h) throw new Error(`below midpoint of 0x${h.toString(16)}`);
    }
  });

  it('handles overflow, underflow, subnormals, infinities and NaN', () => {
    expect(toHalf(65504)).toBe(0x7bff);
    expect(toHalf(65519.99)).toBe(0x7bff); // below the rounding threshold of the largest half
    expect(toHalf(65520)).toBe(0x7c00); // ties to even rounds to infinity
    expect(toHalf(1e10)).toBe(0x7c00);
    expect(toHalf(-1e10)).toBe(0xfc00);
    expect(toHalf(Infinity)).toBe(0x7c00);
    expect(toHalf(-Infinity)).toBe(0xfc00);
    expect(toHalf(2 ** -24)).toBe(0x0001);
    expect(toHalf(2 ** -25)).toBe(0x0000); // tie with zero, zero is even
    expect(toHalf(2 ** -25 * 1.0001)).toBe(0x0001);
    expect(toHalf(3 * 2 ** -25)).toBe(0x0002); // tie between 1 and 2 subnormal ulps -> even
    expect(toHalf(2 ** -14 - 2 ** -26)).toBe(0x0400); // rounds up out of the subnormals into the smallest normal
    expect(toHalf(-0)).toBe(0x8000);
    expect(toHalf(1e-30)).toBe(0);
    const nan = toHalf(NaN);
    expect(nan & 0x7c00).toBe(0x7c00);
    expect(nan & 0x3ff).not.toBe(0);
    // A NaN whose payload sits in the low bits only must stay a NaN, not become infinity.
    u32[0] = 0x7f800001;
    expect(toHalf(f32[0]) & 0x3ff).not.toBe(0);
    expect(f16BitsToF32Bits(0x3c00)).toBe(bitsOf(1));
    expect(toHalf(0.1)).toBe(0x2e66);
    expect(toHalf(1 / 3)).toBe(0x3555);
  });
});
