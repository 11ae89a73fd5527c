import { describe, expect, it } from 'vitest';
import { EMPTY_EXEC, reduceExec, type ExecAction, type ExecState } from '../../../../editor/src/exec/state.js';
import type { ApiWorkflow } from '../../../../engine/workflow.js';

const prompt: ApiWorkflow = {
  '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'x' } },
  '6': { class_type: 'CLIPTextEncode', inputs: { clip: ['4', 1], text: 'a' } },
  '5': { class_type: 'EmptyLatentImage', inputs: {} },
  '3': { class_type: 'KSampler', inputs: { model: ['4', 0], positive: ['6', 0], latent_image: ['5', 0] } },
  '9': { class_type: 'SaveImage', inputs: { images: ['3', 0] } },
};
const prompts = new Map([['p1', prompt]]);

function run(msgs: [string, Record<string, unknown>, number][], start: ExecState = EMPTY_EXEC): ExecState {
  return msgs.reduce((s, [type, data, t]) => reduceExec(s, { kind: 'ws', type, data } satisfies ExecAction, t, prompts), start);
}

describe('reduceExec', () => {
  it('follows a run: pending, cached, running with step k/N, done with duration, images', () => {
    const s = run([
      ['execution_start', { prompt_id: 'p1' }, 0],
      ['execution_cached', { nodes: ['4', '6'], prompt_id: 'p1' }, 1],
      ['executing', { node: '5', prompt_id: 'p1' }, 10],
      ['executing', { node: '3', prompt_id: 'p1' }, 30],
      ['progress', { node: '3', value: 4, max: 20, prompt_id: 'p1' }, 40],
    ]);
    expect(s.nodes.get('4')!.status).toBe('cached');
    expect(s.nodes.get('5')).toMatchObject({ status: 'done', durationMs: 20 });
    expect(s.nodes.get('3')).toMatchObject({ status: 'running', value: 4, max: 20 });
    expect(s.nodes.get('9')!.status).toBe('pending');
    const withPreview = reduceExec(s, { kind: 'preview', url: 'blob:1' }, 41, prompts);
    expect(withPreview.nodes.get('3')!.preview).toBe('blob:1');
    const end = run(
      [
        ['executing', { node: '9', prompt_id: 'p1' }, 100],
        ['executed', { node: '9', output: { images: [{ filename: 'a.png', subfolder: '', type: 'output' }] }, prompt_id: 'p1' }, 130],
        ['execution_success', { prompt_id: 'p1' }, 131],
        ['executing', { node: null, prompt_id: 'p1' }, 132],
      ],
      withPreview,
    );
    expect(end.nodes.get('3')).toMatchObject({ status: 'done', durationMs: 70 });
    expect(end.nodes.get('9')).toMatchObject({ status: 'done', durationMs: 30, images: [{ filename: 'a.png', subfolder: '', type: 'output' }] });
  });

  it('keeps independent branches running side by side (done only when a dependent starts)', () => {
    const s = run([
      ['execution_start', { prompt_id: 'p1' }, 0],
      ['executing', { node: '4', prompt_id: 'p1' }, 1],
      ['executing', { node: '5', prompt_id: 'p1' }, 2],
    ]);
    expect(s.nodes.get('4')!.status).toBe('running');
    expect(s.nodes.get('5')!.status).toBe('running');
    const t = run([['executing', { node: '6', prompt_id: 'p1' }, 9]], s);
    expect(t.nodes.get('4')).toMatchObject({ status: 'done', durationMs: 8 });
    expect(t.nodes.get('5')!.status).toBe('running');
  });

  it('puts the error message on the failing node and stops the others', () => {
    const s = run([
      ['execution_start', { prompt_id: 'p1' }, 0],
      ['executing', { node: '3', prompt_id: 'p1' }, 1],
      ['execution_error', { prompt_id: 'p1', node_id: '3', exception_type: 'RangeError', exception_message: 'bad shape' }, 2],
    ]);
    expect(s.nodes.get('3')).toMatchObject({ status: 'error', error: 'RangeError: bad shape' });
    expect(s.nodes.get('9')!.status).toBeUndefined();
    expect(s.message).toMatch(/node 3 failed/);
  });

  it('reads queue_remaining from status and marks the interrupted node', () => {
    const s = run([
      ['status', { status: { exec_info: { queue_remaining: 3 } } }, 0],
      ['execution_start', { prompt_id: 'p1' }, 0],
      ['executing', { node: '3', prompt_id: 'p1' }, 1],
      ['execution_interrupted', { prompt_id: 'p1', node_id: '3' }, 2],
    ]);
    expect(s.queueRemaining).toBe(3);
    expect(s.nodes.get('3')!.status).toBe('interrupted');
  });

  it('sets and clears validation issues per node', () => {
    const s = reduceExec(EMPTY_EXEC, { kind: 'issues', issues: new Map([['3', { steps: 'value smaller than min' }]]), message: 'm' }, 0, prompts);
    expect(s.nodes.get('3')!.issues).toEqual({ steps: 'value smaller than min' });
    const edited = reduceExec(s, { kind: 'clear-issue', node: '3', input: 'steps' }, 0, prompts);
    expect(edited.nodes.get('3')!.issues).toBeUndefined();
    const t = reduceExec(s, { kind: 'clear-issues' }, 0, prompts);
    expect(t.nodes.get('3')!.issues).toBeUndefined();
    expect(t.message).toBeUndefined();
  });

  it('remembers the last successful prompt with the nodes that ran or were cached', () => {
    const withOrphan: ApiWorkflow = { ...prompt, '12': { class_type: 'EmptyLatentImage', inputs: {} } };
    const ps = new Map([['p2', withOrphan]]);
    const msgs: [string, Record<string, unknown>][] = [
      ['execution_start', { prompt_id: 'p2' }],
      ['execution_cached', { nodes: ['4', '6'], prompt_id: 'p2' }],
      ['executing', { node: '5', prompt_id: 'p2' }],
      ['executing', { node: '3', prompt_id: 'p2' }],
      ['executing', { node: '9', prompt_id: 'p2' }],
    ];
    const s = msgs.reduce((st, [type, data], t) => reduceExec(st, { kind: 'ws', type, data }, t, ps), EMPTY_EXEC);
    expect(s.lastRun).toBeUndefined();
    const ok = reduceExec(s, { kind: 'ws', type: 'execution_success', data: { prompt_id: 'p2' } }, 9, ps);
    expect(ok.lastRun!.prompt).toBe(withOrphan);
    expect([...ok.lastRun!.ran].sort()).toEqual(['3', '4', '5', '6', '9']);
    // A failed run leaves the last success in place.
    const failed = reduceExec(reduceExec(ok, { kind: 'ws', type: 'execution_start', data: { prompt_id: 'p2' } }, 10, ps), { kind: 'ws', type: 'execution_error', data: { prompt_id: 'p2', node_id: '3' } }, 11, ps);
    expect(failed.lastRun).toBe(ok.lastRun);
  });

  it('counts what feeds a cache hit as run: the server reports only the hit', () => {
    const s = run([
      ['execution_start', { prompt_id: 'p1' }, 0],
      ['execution_cached', { nodes: ['3'], prompt_id: 'p1' }, 1],
      ['executing', { node: '9', prompt_id: 'p1' }, 2],
      ['execution_success', { prompt_id: 'p1' }, 3],
    ]);
    expect([...s.lastRun!.ran].sort()).toEqual(['3', '4', '5', '6', '9']);
    expect(s.nodes.get('4')!.status).toBeUndefined();
  });

  it('sets stale marks, touching only the nodes whose mark changes, and keeps them through a run start', () => {
    const s = reduceExec(EMPTY_EXEC, { kind: 'stale', ids: new Set(['3', '9']) }, 0, prompts);
    expect(s.nodes.get('3')!.stale).toBe(true);
    expect(s.nodes.get('4')?.stale).toBeUndefined();
    expect(reduceExec(s, { kind: 'stale', ids: new Set(['3', '9']) }, 0, prompts)).toBe(s);
    const t = reduceExec(s, { kind: 'stale', ids: new Set(['9', '8']) }, 0, prompts);
    expect(t.nodes.get('3')!.stale).toBeUndefined();
    expect(t.nodes.get('9')).toBe(s.nodes.get('9'));
    expect(t.nodes.get('8')!.stale).toBe(true);
    const started = reduceExec(t, { kind: 'ws', type: 'execution_start', data: { prompt_id: 'p1' } }, 1, prompts);
    expect(started.nodes.get('9')).toMatchObject({ status: 'pending', stale: true });
  });

  it('sets inferred shapes per node, clears those no longer known, and keeps the state when nothing changed', () => {
    const a = reduceExec(EMPTY_EXEC, { kind: 'shapes', shapes: { '5': [[1, 4, 64, 64]], '4': [null, null, null] } }, 0, prompts);
    expect(a.nodes.get('5')!.shapes).toEqual([[1, 4, 64, 64]]);
    expect(a.nodes.get('4')!.shapes).toEqual([null, null, null]);
    const same = reduceExec(a, { kind: 'shapes', shapes: { '5': [[1, 4, 64, 64]], '4': [null, null, null] } }, 0, prompts);
    expect(same).toBe(a);
    const b = reduceExec(a, { kind: 'shapes', shapes: { '5': [[2, 4, 64, 64]] } }, 0, prompts);
    expect(b.nodes.get('5')!.shapes).toEqual([[2, 4, 64, 64]]);
    expect(b.nodes.get('4')!.shapes).toBeUndefined();
    // Untouched entries keep their identity, so only changed nodes re-render.
    const c = reduceExec(b, { kind: 'shapes', shapes: { '5': [[2, 4, 64, 64]], '3': [[2, 4, 64, 64]] } }, 0, prompts);
    expect(c.nodes.get('5')).toBe(b.nodes.get('5'));
  });
});
