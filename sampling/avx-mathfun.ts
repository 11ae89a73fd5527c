/**
 * One lane of PyTorch's AVX2 `log256_ps` and `sincos256_ps` (aten/src/ATen/native/cpu/avx_mathfun.h, after
 * Pommier's sse_mathfun: Cephes logf / sinf / cosf polynomials in float32), emulated bit for bit with
 * Math.fround and an exact float32 fused multiply-add.
 *
 * Which multiply-adds are fused is not written in avx_mathfun.h: GCC contracts `_mm256_add_ps(_mm256_mul_ps(a, b), c)`
 * into one vfmadd when the product has no other use (its default -ffp-contract=fast with -mfma, which PyTorch's
 * AVX2 kernels are built with), taking the statements in order. So every Horner step is an FMA, the log's
 * `y * z + e * q1` fuses the first product, the cosine's `y * z - z * 0.5` fuses y * z, the sine's `y * x + x`
 * is an FMA, and the three-part range reduction `x + j * DP_k` is three FMAs. With exactly these fusions every
 * value of the reference tensors in ../shared/data/torch/full is reproduced (test/sampling/randn-full.test.ts);
 * without them 0.2% of values are 1-3 ulp off.
 */

const f = Math.fround;

const F32 = new Float32Array(1);
const I32 = new Int32Array(F32.buffer);

function bitsOf(x: number): number {
  F32[0] = x;
  return I32[0];
}

function fromBits(i: number): number {
  I32[0] = i;
  return F32[0];
}

/** The float32 next to `x` towards +infinity (x a finite float32). */
function nextUp(x: number): number {
  if (x === 0) return 2 ** -149;
  F32[0] = x;
  I32[0] += x > 0 ? 1 : -1;
  return F32[0];
}

/** The float32 next to `x` towards -infinity (x a finite float32). */
function nextDown(x: number): number {
  return -nextUp(-x);
}

/**
 * fmaf(a, b, c) for float32 a, b, c: a * b + c rounded once to float32 (round to nearest, ties to even).
 * The product of two float32 values is exact in a double; the sum is rounded to a double, and its rounding
 * error `e` (TwoSum) decides the one case where rounding that double again to float32 could differ from
 * rounding the exact sum: the double landing exactly on a float32 midpoint.
 */
export function fma32(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const bv = s - p;
  const e = p - (s - bv) + (c - bv);
  const r = f(s);
  if (e === 0 || r === s) return r;
  // A midpoint s between r and its neighbour n has n = 2s - r exactly, a float32; otherwise 2s - r is none.
  const n = 2 * s - r;
  if (f(n) !== n) return r;
  const lo = r < s ? r : nextDown(r);
  const hi = r < s ? nextUp(r) : r;
  if (s !== (lo + hi) / 2) return r;
  return e > 0 ? hi : lo;
}

const SQRTHF = f(0.707106781186547524);
const LOG_P = [
  7.0376836292e-2, -1.151461031e-1, 1.167699874e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1,
  2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1,
].map(f);
const LOG_Q1 = f(-2.12194440e-4);
const LOG_Q2 = f(0.693359375);
const MIN_NORM_POS = 2 ** -126;

/**
 * Natural log of a positive float32, as one lane of avx_mathfun.h log256_ps: split off the exponent, move the
 * mantissa to [sqrt(1/2), sqrt(2)) - 1, a degree-9 polynomial, then add the exponent times ln 2 in two parts.
 * Arguments <= 0 are not handled (Box-Muller only passes (0, 1]).
 */
export function logf256(x0: number): number {
  const clamped = Math.max(x0, MIN_NORM_POS);
  const bits = bitsOf(clamped);
  let x = fromBits((bits & ~0x7f800000) | 0x3f000000);
  let e = f(f((bits >>> 23) - 127) + 1);
  const small = x < SQRTHF;
  const keep = small ? x : 0;
  x = f(x - 1);
  if (small) e = f(e - 1);
  x = f(x + keep);
  const z = f(x * x);
  let y = LOG_P[0];
  for (let k = 1; k < LOG_P.length; k++) y = fma32(y, x, LOG_P[k]);
  y = f(y * x);
  y = fma32(y, z, f(e * LOG_Q1));
  y = f(y - f(z * 0.5));
  x = f(x + y);
  return fma32(e, LOG_Q2, x);
}

const FOPI = f(1.27323954473516);
const DP1 = f(-0.78515625);
const DP2 = f(-2.4187564849853515625e-4);
const DP3 = f(-3.77489497744594108e-8);
const SIN_P = [-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1].map(f);
const COS_P = [2.443315711809948e-5, -1.388731625493765e-3, 4.166664568298827e-2].map(f);

/**
 * Sine and cosine of a float32 angle, as one lane of avx_mathfun.h sincos256_ps: reduce by multiples of pi/4
 * (j = (trunc(|x| * 4/pi) + 1) & ~1, subtracted in three parts), evaluate Cephes' sine and cosine polynomials and
 * pick and sign them by the octant. Writes into `out` when given (no allocation in the hot loop).
 */
export function sincosf256(x0: number, out: { sin: number; cos: number } = { sin: 0, cos: 0 }): { sin: number; cos: number } {
  let x = Math.abs(x0);
  let j = Math.trunc(f(x * FOPI));
  j = (j + 1) & ~1;
  const y = j;
  x = fma32(y, DP1, x);
  x = fma32(y, DP2, x);
  x = fma32(y, DP3, x);
  const sinNegative = (x0 < 0) !== ((j & 4) !== 0);
  const cosNegative = ((j - 2) & 4) === 0;
  const sinPoly = (j & 2) === 0;
  const z = f(x * x);
  let yc = fma32(COS_P[0], z, COS_P[1]);
  yc = fma32(yc, z, COS_P[2]);
  yc = f(yc * z);
  yc = fma32(yc, z, -f(z * 0.5));
  yc = f(yc + 1);
  let ys = fma32(SIN_P[0], z, SIN_P[1]);
  ys = fma32(ys, z, SIN_P[2]);
  ys = f(ys * z);
  ys = fma32(ys, x, x);
  const s = sinPoly ? ys : yc;
  const c = sinPoly ? yc : ys;
  out.sin = sinNegative ? -s : s;
  out.cos = cosNegative ? -c : c;
  return out;
}
