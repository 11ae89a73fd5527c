import { describe, expect, it } from 'vitest';
import { shapeLabel } from '../../../../editor/src/graph/shape-label.js';

describe('shapeLabel', () => {
  it("reads as editor.md's examples: latents C x H x W, images and masks width x height, batches as xN", () => {
    expect(shapeLabel('LATENT', [2, 4, 64, 64])).toBe('4x64x64 x2');
    expect(shapeLabel('LATENT', [1, 4, 32, 48])).toBe('4x32x48');
    expect(shapeLabel('IMAGE', [1, 512, 768, 3])).toBe('768x512');
    expect(shapeLabel('IMAGE', [3, 64, 64, 3])).toBe('64x64 x3');
    expect(shapeLabel('MASK', [1, 64, 32])).toBe('32x64');
    expect(shapeLabel('OTHER', [5, 6])).toBe('5x6');
  });

  it('shows an upscale model by its scale', () => {
    expect(shapeLabel('UPSCALE_MODEL', [4])).toBe('x4');
  });
});
