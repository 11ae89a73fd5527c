/**
 * IEEE 754-2008 binary16 <-> binary32 conversion on bit patterns, round-to-nearest-even
 * ("Fast Half Float Conversions", J. van der Zijp 2008; the same rules as numpy's npy_floatbits_to_halfbits).
 * Conversions work on raw bits so NaN payloads and signed zeros survive a round trip exactly.
 */

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** binary32 bits -> binary16 bits, rounding to nearest, ties to even. */
export function f32BitsToF16Bits(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) {
    if (mant === 0) return sign | 0x7c00;
    const payload = mant >>> 13;
    // NOTE: a NaN whose payload lives only in the low 13 bits would truncate to infinity; set the quiet bit.
    return sign | 0x7c00 | (payload === 0 ? 0x200 : payload);
  }
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Below 2^-25 even the largest mantissa rounds to zero.
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rem = mant & ((1 << shift) - 1);
    let m = mant >>> shift;
    if (rem > half || (rem === half && (m & 1) === 1)) m++;
    // A carry out of the subnormal range lands exactly on the smallest normal, which is correct.
    return sign | m;
  }
  let h = sign | (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // A carry may ripple into the exponent (and up to infinity), which is the correct rounding.
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) === 1)) h++;
  return h;
}

/** binary16 bits -> binary32 bits (exact: every half value is representable as a float). */
export function f16BitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0;
  if (exp !== 0) return (sign | ((exp - 15 + 127) << 23) | (mant << 13)) >>> 0;
  if (mant === 0) return sign >>> 0;
  // Subnormal half: normalise the mantissa into a binary32 normal.
  let e = -14;
  let m = mant;
  while ((m & 0x400) === 0) {
    m <<= 1;
    e--;
  }
  return (sign | ((e + 127) << 23) | ((m & 0x3ff) << 13)) >>> 0;
}

let halfTable: Uint32Array | undefined;
function table(): Uint32Array {
  if (!halfTable) {
    halfTable = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) halfTable[h] = f16BitsToF32Bits(h);
  }
  return halfTable;
}

/** A JS number -> half bits (through binary32 first, as a Float32Array store would). */
export function toHalf(value: number): number {
  scratchF32[0] = value;
  return f32BitsToF16Bits(scratchU32[0]);
}

/** Half bits -> JS number. */
export function fromHalf(bits: number): number {
  scratchU32[0] = table()[bits & 0xffff];
  return scratchF32[0];
}

/** Float32Array -> Uint16Array of half bit patterns (into `out` when given, sized like `src`). */
export function float32ToFloat16(src: Float32Array, out = new Uint16Array(src.length)): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < bits.length; i++) out[i] = f32BitsToF16Bits(bits[i]);
  return out;
}

/** Uint16Array of half bit patterns -> Float32Array (into `out` when given, sized like `src`). */
export function float16ToFloat32(src: Uint16Array): Float32Array<ArrayBuffer>;
export function float16ToFloat32(src: Uint16Array, out: Float32Array): Float32Array;
export function float16ToFloat32(src: Uint16Array, out: Float32Array = new Float32Array(src.length)): Float32Array {
  const t = table();
  const bits = new Uint32Array(out.buffer, out.byteOffset, src.length);
  for (let i = 0; i < src.length; i++) bits[i] = t[src[i]];
  return out;
}
