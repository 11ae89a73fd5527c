import { describe, it, expect } from 'vitest';
import { stubEngine, runs, slowActive } from '../fixtures/stub-nodes.js';
import type { EngineEvent } from '../../engine/index.js';

function chain(seed: number, ids = ['1', '2', '3', '4']) {
  const [a, b, c, d] = ids as [string, string, string, string];
  return {
    [a]: { class_type: 'StubConst', inputs: { value: 2 } },
    [b]: { class_type: 'StubAdd', inputs: { a: [a, 0], b: [a, 0] } },
    [c]: { class_type: 'StubSeeded', inputs: { x: [b, 0], seed, mode: 'a' } },
    [d]: { class_type: 'StubSink', inputs: { value: [b, 0], latent: [c, 0] } },
  };
}

describe('execute', () => {
  it('runs, emits ComfyUI events in order, and returns UI outputs', async () => {
    const engine = stubEngine();
    const events: EngineEvent[] = [];
    const r = await engine.run(chain(5), { promptId: 'p1', onEvent: (e) => events.push(e) });
    expect(r.status).toBe('success');
    expect(r.outputs['4']).toEqual({ values: [4, 9] });
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('execution_start');
    expect(types[1]).toBe('execution_cached');
    expect(types.at(-1)).toBe('execution_success');
    expect(types.filter((t) => t === 'executing')).toHaveLength(4);
    expect(events.every((e) => e.data.prompt_id === 'p1')).toBe(true);
    const exec = events.filter((e) => e.type === 'executing').map((e) => (e.type === 'executing' ? e.data.node : ''));
    expect(exec.indexOf('1')).toBeLessThan(exec.indexOf('2'));
    expect(exec.indexOf('3')).toBeLessThan(exec.indexOf('4'));
  });

  it('re-runs only the seeded node and what follows when only the seed changes', async () => {
    const engine = stubEngine();
    await engine.run(chain(5));
    expect(runs.get('StubConst')).toBe(1);
    const r = await engine.run(chain(6));
    expect(runs.get('StubConst')).toBe(1);
    expect(runs.get('StubAdd')).toBe(1);
    expect(runs.get('StubSeeded')).toBe(2);
    expect(runs.get('StubSink')).toBe(2);
    expect(r.cached.sort()).toEqual(['2']);
  });

  it('shares results across renumbered workflows, and replays cached UI outputs', async () => {
    const engine = stubEngine();
    await engine.run(chain(5));
    const events: EngineEvent[] = [];
    const r = await engine.run(chain(5, ['a', 'b', 'c', 'd']), { onEvent: (e) => events.push(e) });
    expect(r.executed).toEqual([]);
    expect(r.outputs.d).toEqual({ values: [4, 9] });
    expect(events.some((e) => e.type === 'executed' && e.data.node === 'd')).toBe(true);
    const cachedEv = events.find((e) => e.type === 'execution_cached');
    expect(cachedEv && cachedEv.type === 'execution_cached' ? cachedEv.data.nodes : []).toEqual(['d']);
  });

  it('re-runs nodes that embed the prompt when the prompt differs elsewhere, not on identical re-submission', async () => {
    const engine = stubEngine();
    const wf = (other: number) => ({
      '1': { class_type: 'StubConst', inputs: { value: 2 } },
      '2': { class_type: 'StubSave', inputs: { value: ['1', 0] } },
      '3': { class_type: 'StubConst', inputs: { value: other } },
      '4': { class_type: 'StubSink', inputs: { value: ['3', 0] } },
    });
    await engine.run(wf(1));
    await engine.run(wf(1));
    expect(runs.get('StubSave')).toBe(1);
    await engine.run(wf(7));
    expect(runs.get('StubSave')).toBe(2);
    expect(runs.get('StubConst')).toBe(3);
  });

  it('stops on a node error with execution_error naming node, type and message', async () => {
    const engine = stubEngine();
    const events: EngineEvent[] = [];
    const r = await engine.run(
      {
        '1': { class_type: 'StubConst', inputs: { value: 1 } },
        '2': { class_type: 'StubFail', inputs: { x: ['1', 0], message: 'kaput' } },
        '3': { class_type: 'StubSink', inputs: { value: ['2', 0] } },
      },
      { onEvent: (e) => events.push(e) },
    );
    expect(r.status).toBe('error');
    expect(r.error).toMatchObject({ nodeId: '2', nodeType: 'StubFail', message: 'kaput', errorType: 'RangeError' });
    const err = events.at(-1)!;
    expect(err.type).toBe('execution_error');
    if (err.type === 'execution_error') expect(err.data).toMatchObject({ node_id: '2', node_type: 'StubFail', exception_message: 'kaput', executed: ['1'] });
    expect(runs.get('StubSink')).toBeUndefined();
  });

  it('interrupts between steps through the AbortSignal', async () => {
    const engine = stubEngine();
    const ac = new AbortController();
    const events: EngineEvent[] = [];
    const p = engine.run(
      {
        '1': { class_type: 'StubConst', inputs: { value: 1 } },
        '2': { class_type: 'StubSlow', inputs: { x: ['1', 0], steps: 50, ms: 10 } },
        '3': { class_type: 'StubSink', inputs: { value: ['2', 0] } },
      },
      {
        signal: ac.signal,
        onEvent: (e) => {
          events.push(e);
          if (e.type === 'progress' && e.data.value === 3) ac.abort();
        },
      },
    );
    const r = await p;
    expect(r.status).toBe('interrupted');
    expect(events.at(-1)!.type).toBe('execution_interrupted');
    expect(events.filter((e) => e.type === 'progress').length).toBeLessThan(6);
    expect(runs.get('StubSink')).toBeUndefined();
  });

  it('runs independent branches concurrently', async () => {
    const engine = stubEngine();
    const r = await engine.run({
      '1': { class_type: 'StubConst', inputs: { value: 1 } },
      '2': { class_type: 'StubSlow', inputs: { x: ['1', 0], steps: 1, ms: 300 } },
      '3': { class_type: 'StubSlow', inputs: { x: ['1', 0], steps: 2, ms: 150 } },
      '4': { class_type: 'StubAdd', inputs: { a: ['2', 0], b: ['3', 0] } },
      '5': { class_type: 'StubSink', inputs: { value: ['4', 0] } },
    });
    expect(r.status).toBe('success');
    expect(slowActive.max).toBe(2);
  });

  it('maps nodes over list outputs and hands whole lists to INPUT_IS_LIST nodes', async () => {
    const engine = stubEngine();
    const r = await engine.run({
      '1': { class_type: 'StubSplit', inputs: { n: 4 } },
      '2': { class_type: 'StubConst', inputs: { value: 10 } },
      '3': { class_type: 'StubAdd', inputs: { a: ['1', 0], b: ['2', 0] } },
      '4': { class_type: 'StubSum', inputs: { values: ['3', 0] } },
      '5': { class_type: 'StubSink', inputs: { value: ['4', 0] } },
    });
    expect(r.status).toBe('success');
    expect(runs.get('StubAdd')).toBe(4);
    expect(r.outputs['5']).toEqual({ values: [46, null] });
  });
});
