import { describe, it, expect } from 'vitest';
import { ancestorsOf } from '../../../engine/graph/reachable.js';

describe('ancestorsOf', () => {
  it('collects everything upstream of the roots, once, without recursion limits', () => {
    const n = 200_000;
    const deps = (id: string) => (Number(id) > 0 ? [String(Number(id) - 1)] : []);
    const s = ancestorsOf([String(n - 1)], deps, () => true);
    expect(s.size).toBe(n);
  });
  it('skips unknown ids and unrelated nodes', () => {
    const g: Record<string, string[]> = { a: ['b', 'zz'], b: [], c: ['a'] };
    const s = ancestorsOf(['a'], (id) => g[id] ?? [], (id) => id in g);
    expect([...s].sort()).toEqual(['a', 'b']);
  });
});
