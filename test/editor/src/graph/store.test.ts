import { describe, expect, it } from 'vitest';
import { GraphStore } from '../../../../editor/src/graph/store.js';
import type { Graph, LfNode } from '../../../../editor/src/graph/types.js';

const node = (id: string, steps: number): LfNode => ({ id, type: 'lf', position: { x: 0, y: 0 }, data: { classType: 'KSampler', values: { steps }, controls: {} } });
const g = (steps: number): Graph => ({ nodes: [node('1', steps)], edges: [] });

describe('GraphStore undo/redo', () => {
  it('undoes and redoes commits, not plain sets', () => {
    const s = new GraphStore(g(20));
    s.commit(g(7), undefined, 0);
    s.set(g(8));
    expect(s.undo()).toBe(true);
    expect(s.get().nodes[0]!.data.values.steps).toBe(20);
    expect(s.redo()).toBe(true);
    expect(s.get().nodes[0]!.data.values.steps).toBe(8);
    expect(s.redo()).toBe(false);
  });

  it('merges quick edits of one field into one step, not edits of different fields', () => {
    const s = new GraphStore(g(20));
    s.commit(g(2), 'steps', 0);
    s.commit(g(25), 'steps', 300);
    s.commit(g(26), 'cfg', 400);
    s.undo();
    expect(s.get().nodes[0]!.data.values.steps).toBe(25);
    s.undo();
    expect(s.get().nodes[0]!.data.values.steps).toBe(20);
    expect(s.canUndo).toBe(false);
  });

  it('drops the redo branch on a new commit and notifies subscribers', () => {
    const s = new GraphStore(g(1));
    let calls = 0;
    s.subscribe(() => calls++);
    s.commit(g(2));
    s.undo();
    s.commit(g(3));
    expect(s.canRedo).toBe(false);
    expect(calls).toBe(3);
  });
});
