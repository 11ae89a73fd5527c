import { describe, expect, it } from 'vitest';
import { nextSeed } from '../../../../editor/src/graph/seed-control.js';

const opts = { min: 0, max: 2n ** 64n - 1n };

describe('nextSeed (control after generate)', () => {
  it('keeps, steps and wraps within [min, max]', () => {
    expect(nextSeed(42, 'fixed', opts)).toBe(42);
    expect(nextSeed(42, 'increment', opts)).toBe(43);
    expect(nextSeed(42, 'decrement', opts)).toBe(41);
    expect(nextSeed(0, 'decrement', opts)).toBe(2n ** 64n - 1n);
    expect(nextSeed(2n ** 64n - 1n, 'increment', opts)).toBe(0);
    expect(nextSeed(2 ** 53 - 1, 'increment', opts)).toBe(2n ** 53n);
  });

  it('randomizes inside the range', () => {
    expect(nextSeed(5, 'randomize', { min: 10, max: 12 }, () => 0.99)).toBe(12);
    expect(nextSeed(5, 'randomize', { min: 10, max: 12 }, () => 0)).toBe(10);
    const v = nextSeed(5, 'randomize', opts, () => 0.5);
    expect(typeof v === 'number' && v > 1e15).toBe(true);
  });
});
