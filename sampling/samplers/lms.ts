import { SamplerContext } from './common.js';
import type { Sampler } from './types.js';
import { toD } from './vector.js';

// NOTE: 4-point Gauss-Legendre integrates the cubic Lagrange basis of order-4 LMS exactly.
const GL_NODES = [-0.8611363115940526, -0.3399810435848563, 0.3399810435848563, 0.8611363115940526];
const GL_WEIGHTS = [0.3478548451374538, 0.6521451548625461, 0.6521451548625461, 0.3478548451374538];

/**
 * Coefficient j of the linear multistep step i: the integral over [t_i, t_{i+1}] of the Lagrange basis
 * polynomial through t_i, ..., t_{i-order+1} (k-diffusion linear_multistep_coeff, integrated exactly).
 */
export function linearMultistepCoeff(order: number, t: ArrayLike<number>, i: number, j: number): number {
  const basis = (tau: number): number => {
    let prod = 1;
    for (let k = 0; k < order; k++) {
      if (k !== j) prod *= (tau - t[i - k]) / (t[i - j] - t[i - k]);
    }
    return prod;
  };
  const a = t[i];
  const b = t[i + 1];
  const half = (b - a) / 2;
  const mid = (a + b) / 2;
  let sum = 0;
  for (let q = 0; q < 4; q++) sum += GL_WEIGHTS[q] * basis(mid + half * GL_NODES[q]);
  return sum * half;
}

/** Linear multistep sampler of order 4 (k-diffusion sample_lms); the step to sigma 0 returns D as ComfyUI does. */
export function makeLms(order = 4): Sampler {
  return async (denoise, x0, sigmas, opts) => {
    const c = new SamplerContext(denoise, x0, sigmas, opts);
    let x = x0.data;
    const ds: Float32Array[] = [];
    for (let i = 0; i < c.total; i++) {
      const s = sigmas[i];
      const denoised = await c.denoise(x, s);
      ds.push(toD(x, denoised, s));
      if (ds.length > order) ds.shift();
      await c.step(i, x, denoised);
      if (sigmas[i + 1] === 0) {
        x = denoised.slice();
        continue;
      }
      const cur = Math.min(i + 1, order);
      const next = x.slice();
      for (let j = 0; j < cur; j++) {
        const coeff = linearMultistepCoeff(cur, sigmas, i, j);
        const d = ds[ds.length - 1 - j];
        for (let k = 0; k < next.length; k++) next[k] += coeff * d[k];
      }
      x = next;
    }
    return c.tensor(x);
  };
}

export const sampleLms: Sampler = makeLms(4);
