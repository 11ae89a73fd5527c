import { describe, expect, it } from 'vitest';
import { JobStore } from '../../server/store.js';
import { poisonRecord } from '../../server/runner.js';
import { tempBase } from './helpers.js';

const record = { outputs: {}, status: { status_str: 'success' as const, completed: true, messages: [] }, meta: {} };

function add(store: JobStore, id: string, front = false, number?: number) {
  return store.add({ id, number, front, prompt: { '1': { class_type: 'X', inputs: { seed: 18446744073709551615n } } }, extraData: {}, outputsToExecute: ['1'], clientId: null });
}

describe('JobStore', () => {
  it('numbers like ComfyUI (counter, negative for front) and orders pending by number', () => {
    const s = new JobStore(tempBase('store'));
    expect(add(s, 'a').number).toBe(0);
    expect(add(s, 'b').number).toBe(1);
    expect(add(s, 'c', true).number).toBe(-2);
    expect(add(s, 'd', false, 0.5).number).toBe(0.5);
    expect(s.pending().map((j) => j.id)).toEqual(['c', 'a', 'd', 'b']);
    expect(add(s, 'a').number).toBe(0);
    expect(s.countActive()).toBe(4);
    expect(s.get('a')!.prompt).toEqual({ '1': { class_type: 'X', inputs: { seed: 18446744073709551615n } } });
    s.close();
  });

  it('finishes a job once, pages history, survives reopening, requeues then poisons crashed jobs', () => {
    const dir = tempBase('store2');
    let s = new JobStore(dir);
    for (const id of ['a', 'b', 'c']) add(s, id);
    for (const id of ['a', 'b']) {
      s.start(id);
      expect(s.finish(id, 'success', record)).toBe(true);
    }
    expect(s.finish('a', 'error', record)).toBe(false);
    expect(s.history().map(([id]) => id)).toEqual(['a', 'b']);
    expect(s.history(1).map(([id]) => id)).toEqual(['b']);
    expect(s.history(1, 0).map(([id]) => id)).toEqual(['a']);
    s.start('c');
    s.close();
    for (let crash = 1; crash <= 3; crash++) {
      s = new JobStore(dir);
      const r = s.recover(3, poisonRecord);
      if (crash < 3) {
        expect(r).toEqual({ requeued: ['c'], poisoned: [] });
        expect(s.next()!.id).toBe('c');
        s.start('c');
      } else {
        expect(r).toEqual({ requeued: [], poisoned: ['c'] });
        expect(s.status('c')).toBe('error');
        expect(s.historyEntry('c')!.status.messages[0]![0]).toBe('execution_error');
      }
      s.close();
    }
  });
});
