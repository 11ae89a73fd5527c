import { describe, expect, it } from 'vitest';
import { imageToVaeInput, vaeOutputToImage } from '../../../nodes/diffusion/vae-codec.js';
import { Tensor } from '../../../runtime/tensor.js';

describe('vaeOutputToImage', () => {
  it('moves NCHW in -1..1 to [B,H,W,3] in 0..1, clamped, for every row of a batch', () => {
    // 2 rows, 3 channels, 1x2 pixels; channel c of row b at pixel p holds a distinct value.
    const data = Float32Array.from([-1, 1, 0, 0.5, 3, -3, /* row 1 */ 0.25, -0.25, 1, -1, 0, 0]);
    const img = vaeOutputToImage(new Tensor('float32', data, [2, 3, 1, 2]));
    expect(img.shape).toEqual([2, 1, 2, 3]);
    expect([...img.data]).toEqual([0, 0.5, 1, 1, 0.75, 0, /* row 1 */ 0.625, 1, 0.5, 0.375, 0, 0.5]);
  });

  it('repeats a one-channel output into three, and round-trips imageToVaeInput', () => {
    const grey = vaeOutputToImage(new Tensor('float32', Float32Array.from([0, -1]), [1, 1, 1, 2]));
    expect([...grey.data]).toEqual([0.5, 0.5, 0.5, 0, 0, 0]);
    const img = new Tensor('float32', Float32Array.from([0, 0.25, 0.5, 0.75, 1, 0.5]), [1, 1, 2, 3]);
    expect([...vaeOutputToImage(imageToVaeInput(img)).data]).toEqual([...img.data]);
  });
});
