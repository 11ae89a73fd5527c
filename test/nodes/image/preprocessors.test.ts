import { describe, expect, it } from 'vitest';
import { Tensor } from '../../../runtime/tensor.js';
import { Canny, ThresholdMask } from '../../../nodes/image/preprocessors.js';
import { nodeContext, runOutput } from '../../fixtures/run-node.js';

const ctx = nodeContext();

/** A [1,H,W,3] image: `v` inside the box [y0,y1) x [x0,x1), 0 elsewhere. */
function box(H: number, W: number, y0: number, y1: number, x0: number, x1: number, v = 1): Tensor<'float32'> {
  const d = new Float32Array(H * W * 3);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) d.fill(v, (y * W + x) * 3, (y * W + x) * 3 + 3);
  return new Tensor('float32', d, [1, H, W, 3]);
}

const at = (img: Tensor, W: number, y: number, x: number) => img.data[(y * W + x) * 3]!;

describe('Canny (kornia canny)', () => {
  it('outlines a white square with a thin closed ring of white pixels, black inside and outside', async () => {
    const out = await runOutput(Canny, { image: box(32, 32, 8, 24, 8, 24), low_threshold: 0.4, high_threshold: 0.8 }, 'IMAGE', ctx);
    expect(out.shape).toEqual([1, 32, 32, 3]);
    expect(new Set(out.data)).toEqual(new Set([0, 1]));
    // Every row between the corners has an edge pixel at the left and right border (one of the two pixels astride it).
    for (let y = 10; y < 22; y++) {
      expect(at(out, 32, y, 7) + at(out, 32, y, 8)).toBe(1);
      expect(at(out, 32, y, 23) + at(out, 32, y, 24)).toBe(1);
    }
    expect(at(out, 32, 16, 16)).toBe(0);
    expect(at(out, 32, 2, 2)).toBe(0);
    // Non-maximum suppression leaves the ring one pixel wide on the straight parts.
    let row = 0;
    for (let x = 0; x < 32; x++) row += at(out, 32, 16, x);
    expect(row).toBe(2);
  });

  it('a step below the low threshold gives no edges; between the thresholds none either without a strong neighbour', async () => {
    const faint = await runOutput(Canny, { image: box(24, 24, 6, 18, 6, 18, 0.05), low_threshold: 0.4, high_threshold: 0.8 }, 'IMAGE', ctx);
    expect(faint.data.every((v) => v === 0)).toBe(true);
    // Contrast 0.2: the edge magnitude (about 0.6) lies between a 0.2 low and a 0.9 high threshold: weak everywhere, so dropped.
    const weak = await runOutput(Canny, { image: box(24, 24, 6, 18, 6, 18, 0.2), low_threshold: 0.2, high_threshold: 0.9 }, 'IMAGE', ctx);
    expect(weak.data.every((v) => v === 0)).toBe(true);
    const strong = await runOutput(Canny, { image: box(24, 24, 6, 18, 6, 18, 0.2), low_threshold: 0.2, high_threshold: 0.5 }, 'IMAGE', ctx);
    // The 12 x 12 square's ring: 4 x 11 pixels.
    expect(strong.data.reduce((a, v) => a + v, 0) / 3).toBe(44);
  });

  it('hysteresis keeps a weak edge where it continues a strong one', async () => {
    // A horizontal edge whose contrast fades from 1 (left) to 0.15 (right); row 24 half-covered so one row is the maximum.
    const edge = (W: number, x0: number) => {
      const d = new Float32Array(48 * W * 3);
      for (let y = 24; y < 48; y++) for (let x = 0; x < W; x++) d.fill((1 - (0.85 * (x + x0)) / 47) * (y === 24 ? 0.3 : 1), (y * W + x) * 3, (y * W + x) * 3 + 3);
      return new Tensor('float32', d, [1, 48, W, 3]);
    };
    const whole = await runOutput(Canny, { image: edge(48, 0), low_threshold: 0.2, high_threshold: 2 }, 'IMAGE', ctx);
    for (let x = 0; x < 48; x++) expect(at(whole, 48, 24, x), `x=${x}`).toBe(1);
    // The right half alone never reaches the high threshold: only its continuation of the strong part kept it.
    const right = await runOutput(Canny, { image: edge(24, 24), low_threshold: 0.2, high_threshold: 2 }, 'IMAGE', ctx);
    expect(right.data.every((v) => v === 0)).toBe(true);
  });

  it('refuses a 2-channel image naming the node and input', () => {
    expect(() => Canny.run(ctx, { image: new Tensor('float32', new Float32Array(8), [1, 2, 2, 2]), low_threshold: 0.4, high_threshold: 0.8 })).toThrow(/Canny: input 'image'/);
  });
});

describe('ThresholdMask', () => {
  it('is 1 where the mask is above the value, else 0', async () => {
    const m = new Tensor('float32', Float32Array.of(0.2, 0.5, 0.51, 1), [1, 2, 2]);
    const out = await runOutput(ThresholdMask, { mask: m, value: 0.5 }, 'MASK', ctx);
    expect(Array.from(out.data)).toEqual([0, 0, 1, 1]);
  });
});
