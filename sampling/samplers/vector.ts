/** Element-wise helpers over Float32Array for samplers; each takes an optional `out` to reuse memory. */

function target(n: number, out?: Float32Array): Float32Array {
  return out ?? new Float32Array(n);
}

/** out = a * x + b * y */
export function axpby(a: number, x: Float32Array, b: number, y: Float32Array, out?: Float32Array): Float32Array {
  const r = target(x.length, out);
  for (let i = 0; i < x.length; i++) r[i] = a * x[i] + b * y[i];
  return r;
}

/** out = x + y */
export function add(x: Float32Array, y: Float32Array, out?: Float32Array): Float32Array {
  return axpby(1, x, 1, y, out);
}

/** out = a * x */
export function scale(x: Float32Array, a: number, out?: Float32Array): Float32Array {
  const r = target(x.length, out);
  for (let i = 0; i < x.length; i++) r[i] = a * x[i];
  return r;
}

/** out = x + t * (y - x) */
export function lerp(x: Float32Array, y: Float32Array, t: number, out?: Float32Array): Float32Array {
  const r = target(x.length, out);
  for (let i = 0; i < x.length; i++) r[i] = x[i] + t * (y[i] - x[i]);
  return r;
}

/** out = sum_k coeffs[k] * arrays[k] */
export function linearCombination(coeffs: readonly number[], arrays: readonly Float32Array[], out?: Float32Array): Float32Array {
  const n = arrays[0].length;
  const r = target(n, out);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < arrays.length; k++) s += coeffs[k] * arrays[k][i];
    r[i] = s;
  }
  return r;
}

/** The probability-flow derivative d = (x - D) / sigma (k-diffusion to_d). */
export function toD(x: Float32Array, denoised: Float32Array, sigma: number, out?: Float32Array): Float32Array {
  const r = target(x.length, out);
  const inv = 1 / sigma;
  for (let i = 0; i < x.length; i++) r[i] = (x[i] - denoised[i]) * inv;
  return r;
}
