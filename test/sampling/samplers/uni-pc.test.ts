import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../../runtime/tensor.js';
import { SAMPLERS } from '../../../sampling/samplers/index.js';
import { gaussianDenoiser, maxAbsError } from './gaussian.js';

interface Case { sigmas: number[]; x: number[]; bh1: number[]; bh2: number[] }
const ref: { mu: number; s: number; cases: Case[] } = JSON.parse(
  readFileSync(new URL('./fixtures/uni-pc-reference.json', import.meta.url), 'utf8'),
);

describe("uni_pc against ComfyUI's uni_pc.py", () => {
  for (const c of ref.cases) {
    for (const variant of ['bh1', 'bh2'] as const) {
      it(`${variant}, ${c.sigmas.length - 1} steps`, async () => {
        const x = Tensor.float32(c.x, [1, 2, 2, 2]);
        const sampler = variant === 'bh1' ? SAMPLERS.uni_pc : SAMPLERS.uni_pc_bh2;
        const out = await sampler(gaussianDenoiser(ref.mu, ref.s), x, Float64Array.from(c.sigmas), {
          noise: () => {
            throw new Error('uni_pc draws no noise');
          },
        });
        expect(maxAbsError(out.data, c[variant])).toBeLessThan(2e-6);
      });
    }
  }

  it('takes one first-order step for a single-step schedule (ComfyUI would return the input)', async () => {
    const x = Tensor.float32([10, -10], [1, 2]);
    const out = await SAMPLERS.uni_pc(gaussianDenoiser(0, 1), x, Float64Array.from([10, 0]), { noise: () => x });
    // DPM-Solver-1 from sigma 10 to 0.001 with D = x / 101: x' = (s'/s) x + (1 - s'/s) D, in k-diffusion scaling
    const ratio = 0.001 / 10;
    const expected = (v: number): number => ratio * v + (1 - ratio) * (v / 101);
    expect(out.data[0]).toBeCloseTo(expected(10), 4);
    expect(out.data[1]).toBeCloseTo(expected(-10), 4);
  });
});
