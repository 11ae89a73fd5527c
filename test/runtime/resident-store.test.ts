import { describe, expect, it } from 'vitest';
import { ResidentTensorError } from '../../runtime/errors.js';
import { float32ToFloat16 } from '../../runtime/float16.js';
import { float32Output, type AnyTensor } from '../../runtime/io-meta.js';
import { ResidentStore } from '../../runtime/resident-store.js';
import { Tensor } from '../../runtime/tensor.js';
import type { WireRows } from '../../runtime/wire.js';
import { packTensors } from '../../runtime/wire.js';

/** rows x 3 floats; row r holds base + r * 10 + [0, 1, 2]. */
const rowsOf = (rows: number, base: number) =>
  Tensor.float32(Float32Array.from({ length: rows * 3 }, (_, i) => base + Math.floor(i / 3) * 10 + (i % 3)), [rows, 3]);

const halfBits = (t: AnyTensor) => (t.dtype === 'float16' ? Array.from(t.data) : []);
const stack = (rows: number, parts: WireRows['parts']): WireRows => ({ dtype: 'float32', shape: [rows, 3], parts });

describe('ResidentStore', () => {
  it('returns a whole kept tensor as is and assembles row ranges of kept and inline tensors in order', () => {
    const store = new ResidentStore();
    const a = rowsOf(2, 100);
    const b = rowsOf(3, 200);
    const ha = store.keep(a);
    const hb = store.keep(b);
    expect(store.count).toBe(2);
    expect(store.bytes).toBe(5 * 3 * 4);
    expect(store.assemble(stack(2, [{ handle: ha, from: 0, to: 2 }]))).toBe(a);
    const inline = packTensors({ c: rowsOf(1, 900) }, true).wire.c;
    const out = store.assemble(stack(5, [{ handle: hb, from: 1, to: 3 }, { tensor: inline }, { handle: ha, from: 1, to: 2 }, { handle: ha, from: 1, to: 2 }]));
    expect(out.shape).toEqual([5, 3]);
    expect(Array.from(float32Output({ out }, 'out').data)).toEqual([210, 211, 212, 220, 221, 222, 900, 901, 902, 110, 111, 112, 110, 111, 112]);
  });

  it('reuses an assembled stack of resident rows until one of its tensors is dropped', () => {
    const store = new ResidentStore();
    const ha = store.keep(rowsOf(2, 0));
    const hb = store.keep(rowsOf(2, 50));
    const rows = stack(4, [{ handle: ha, from: 0, to: 2 }, { handle: hb, from: 0, to: 2 }]);
    const first = store.assemble(rows);
    expect(store.assemble(rows)).toBe(first);
    expect(store.stacks).toBe(1);
    store.drop([hb]);
    expect(store.stacks).toBe(0);
    expect(store.count).toBe(1);
    expect(store.bytes).toBe(2 * 3 * 4);
    expect(() => store.assemble(rows)).toThrow(ResidentTensorError);
    expect(() => store.assemble(rows)).toThrow(/resident tensor 2 is not held/);
  });

  it('keeps at most a few assembled stacks, least recently used out first', () => {
    const store = new ResidentStore();
    const h = store.keep(rowsOf(4, 0));
    const pairs = [[0, 1], [1, 2], [2, 3], [0, 2], [1, 3], [0, 3], [1, 4], [2, 4], [0, 4]];
    const made = pairs.map(([from, to]) => store.assemble(stack(to - from + 1, [{ handle: h, from, to }, { handle: h, from: 0, to: 1 }])));
    expect(store.stacks).toBe(8);
    // The first stack was evicted (a fresh tensor), the last is still cached.
    const [f0, t0] = pairs[0];
    expect(store.assemble(stack(t0 - f0 + 1, [{ handle: h, from: f0, to: t0 }, { handle: h, from: 0, to: 1 }]))).not.toBe(made[0]);
    const [f8, t8] = pairs[8];
    expect(store.assemble(stack(t8 - f8 + 1, [{ handle: h, from: f8, to: t8 }, { handle: h, from: 0, to: 1 }]))).toBe(made[8]);
  });

  it('converts kept float32 rows to the float16 a session declares once, for whole tensors and stacks', () => {
    const store = new ResidentStore();
    const a = rowsOf(2, 0.5);
    const h = store.keep(a);
    const whole = store.assemble(stack(2, [{ handle: h, from: 0, to: 2 }]), 'float16');
    expect(whole.dtype).toBe('float16');
    expect(halfBits(whole)).toEqual(Array.from(float32ToFloat16(a.data)));
    expect(store.assemble(stack(2, [{ handle: h, from: 0, to: 2 }]), 'float16')).toBe(whole);
    expect(store.assemble(stack(2, [{ handle: h, from: 0, to: 2 }]), 'float32')).toBe(a);
    // Types it cannot convert to are left to the session's feed checks.
    expect(store.assemble(stack(2, [{ handle: h, from: 0, to: 2 }]), 'int64')).toBe(a);
    const rows = stack(3, [{ handle: h, from: 1, to: 2 }, { handle: h, from: 0, to: 2 }]);
    const half = store.assemble(rows, 'float16');
    expect(half.shape).toEqual([3, 3]);
    expect(halfBits(half)).toEqual(Array.from(float32ToFloat16(Float32Array.from([10.5, 11.5, 12.5, 0.5, 1.5, 2.5, 10.5, 11.5, 12.5]))));
    expect(store.assemble(rows, 'float16')).toBe(half);
    expect(store.assemble(rows).dtype).toBe('float32');
  });

  it('names what does not fit: row ranges, widths, element types, row counts', () => {
    const store = new ResidentStore();
    const h = store.keep(rowsOf(2, 0));
    const wide = store.keep(Tensor.float32(new Float32Array(8), [2, 4]));
    expect(() => store.assemble(stack(3, [{ handle: h, from: 0, to: 3 }, { handle: h, from: 0, to: 1 }]))).toThrow(/rows \[0, 3\)/);
    expect(() => store.assemble(stack(3, [{ handle: wide, from: 0, to: 2 }, { handle: h, from: 0, to: 1 }]))).toThrow(ResidentTensorError);
    expect(() => store.assemble(stack(4, [{ handle: h, from: 0, to: 2 }, { handle: h, from: 0, to: 1 }]))).toThrow(/hold 3 rows/);
    expect(() => store.assemble({ dtype: 'int32', shape: [2, 3], parts: [{ handle: h, from: 0, to: 2 }] })).toThrow(/does not match/);
  });
});
