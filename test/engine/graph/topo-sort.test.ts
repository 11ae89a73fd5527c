import { describe, it, expect } from 'vitest';
import { topoSort } from '../../../engine/graph/topo-sort.js';

describe('topoSort', () => {
  const deps = (g: Record<string, string[]>) => (id: string) => g[id] ?? [];
  it('orders dependencies first', () => {
    const g = { a: [], b: ['a'], c: ['a', 'b'], d: ['c'] };
    const { order, cyclic } = topoSort(new Set(Object.keys(g)), deps(g));
    expect(cyclic).toEqual([]);
    expect(order.indexOf('a')).toBeLessThan(order.indexOf('b'));
    expect(order.indexOf('b')).toBeLessThan(order.indexOf('c'));
    expect(order.indexOf('c')).toBeLessThan(order.indexOf('d'));
  });
  it('reports nodes on and behind cycles', () => {
    const g = { a: ['b'], b: ['a'], c: ['a'], d: [] };
    const { order, cyclic } = topoSort(new Set(Object.keys(g)), deps(g));
    expect(order).toEqual(['d']);
    expect(cyclic.sort()).toEqual(['a', 'b', 'c']);
  });
  it('ignores duplicate edges and edges leaving the subgraph', () => {
    const g = { a: ['x', 'x'], b: ['a', 'a'] };
    expect(topoSort(new Set(['a', 'b']), deps(g)).order).toEqual(['a', 'b']);
  });
});
