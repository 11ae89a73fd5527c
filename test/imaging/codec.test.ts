import { describe, expect, it } from 'vitest';
import { decodeImage, encodePng, toRgb8 } from '../../imaging/codec.js';
import { Tensor } from '../../runtime/tensor.js';

const image = (values: number[]) => new Tensor('float32', Float32Array.from(values), [1, 1, values.length / 3, 3]);

describe('toRgb8', () => {
  it("truncates like ComfyUI's numpy clip(255 * x).astype(uint8), and clamps", () => {
    const { data } = toRgb8(image([0.5, 0.999, 0.2, -0.3, 1.4, 0.0039, 0.99999, Number.NaN, 1]), 0);
    // float32 255 * 0.2 is 51.000004 and 255 * 0.99999 is 254.99745.
    expect([...data]).toEqual([127, 254, 51, 0, 255, 0, 254, 0, 255]);
  });

  it('gives back every 8-bit value that LoadImage turned into k / 255', async () => {
    const values = Array.from({ length: 256 * 3 }, (_, i) => Math.floor(i / 3));
    const png = await encodePng(image(values.map((k) => k / 255)), 0);
    const { image: decoded } = await decodeImage(png);
    expect([...toRgb8(decoded, 0).data]).toEqual(values);
  });

  it('picks one row of a batch', () => {
    const batch = new Tensor('float32', Float32Array.from([0, 0, 0, 1, 1, 1]), [2, 1, 1, 3]);
    expect([...toRgb8(batch, 1).data]).toEqual([255, 255, 255]);
  });
});
