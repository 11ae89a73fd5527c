import { describe, expect, it } from 'vitest';
import { dotRows, normalizeRows, softmaxRows, topK } from '../../../nodes/clip/vectors.js';

describe('vector helpers', () => {
  it('normalises rows to unit length and leaves zero rows at zero', () => {
    const n = normalizeRows(Float32Array.from([3, 4, 0, 0]), 2);
    expect(Array.from(n)).toEqual(Array.from(Float32Array.from([0.6, 0.8, 0, 0])));
  });
  it('dots every row with the query, dims not a multiple of 4 included', () => {
    const m = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(Array.from(dotRows(m, 5, Float32Array.from([1, 0, 0, 0, 1])))).toEqual([6, 16]);
  });
  it('softmax with a temperature (CLIP logit scale)', () => {
    const p = softmaxRows(Float32Array.from([0.3, 0.2]), 2, 100);
    expect(p[0]! / p[1]!).toBeCloseTo(Math.exp(10), 0);
    expect(p[0]! + p[1]!).toBeCloseTo(1, 6);
  });
  it('top-k returns the best indices in order, first index on ties', () => {
    const s = Float32Array.from([0.1, 0.9, 0.5, 0.9, -1, 0.7]);
    expect(topK(s, 3)).toEqual([1, 3, 5]);
    expect(topK(s, 10)).toEqual([1, 3, 5, 2, 0, 4]);
    expect(topK(s, 0)).toEqual([]);
  });
});
