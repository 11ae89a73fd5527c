import { describe, expect, it } from 'vitest';
import { packTensors, unpackTensors } from '../../runtime/wire.js';
import { Tensor } from '../../runtime/tensor.js';

describe('packTensors', () => {
  it('copies by default so the caller keeps its arrays, and round-trips every element type', () => {
    const feeds = {
      a: Tensor.float32([1, 2, 3], [3]),
      b: new Tensor('int64', BigInt64Array.from([5n, -6n]), [2]),
      c: new Tensor('float16', Uint16Array.from([0x3c00]), []),
      d: new Tensor('bool', Uint8Array.from([1, 0]), [2]),
    };
    const { wire, transfer } = packTensors(feeds, true);
    expect(transfer).toHaveLength(4);
    for (const buf of transfer) expect([feeds.a.data.buffer, feeds.b.data.buffer]).not.toContain(buf);
    const back = unpackTensors(structuredClone(wire, { transfer }));
    expect(back.a.data).toEqual(feeds.a.data);
    expect(back.b.data).toEqual(feeds.b.data);
    expect(back.c.shape).toEqual([]);
    expect(back.d.dtype).toBe('bool');
    expect(feeds.a.data.length).toBe(3);
  });

  it('hands over whole buffers without copying, but copies views into shared or larger buffers', () => {
    const whole = Tensor.float32([1, 2], [2]);
    const big = new Float32Array(8).fill(7);
    const view = Tensor.float32(big.subarray(2, 4), [2]);
    const { wire, transfer } = packTensors({ whole, view }, false);
    expect(wire.whole.buffer).toBe(whole.data.buffer);
    expect(wire.view.buffer).not.toBe(big.buffer);
    const back = unpackTensors(structuredClone(wire, { transfer }));
    expect(whole.data.byteLength).toBe(0); // detached: it moved
    expect(big.length).toBe(8);
    expect([...back.view.data]).toEqual([7, 7]);
  });
});

describe('float32Output', () => {
  it('returns float32 outputs and names what is wrong otherwise', async () => {
    const { float32Output, OutputMismatchError } = await import('../../runtime/io-meta.js');
    const out = { a: Tensor.float32([1], [1]), b: new Tensor('int64', BigInt64Array.from([1n]), [1]) };
    expect(float32Output(out, 'a').data[0]).toBe(1);
    expect(() => float32Output(out, 'b')).toThrow(OutputMismatchError);
    expect(() => float32Output(out, 'b')).toThrow(/int64\[1\], not float32/);
    expect(() => float32Output(out, 'c')).toThrow(/no output 'c' .*got a, b/);
  });
});
