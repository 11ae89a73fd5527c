import { describe, expect, it } from 'vitest';
import { asJobWork, asServerWork, countsAgainst, currentCause, recordFatalErrors, type FatalRecord } from '../../server/crash-cause.js';
import { JobStore } from '../../server/store.js';
import { poisonRecord } from '../../server/runner.js';
import { CRASH_ON_REQUEST, getJson, postJson, runUntilExit, slowWorkflow, startServerProcess, tempBase, waitJob, WsRecorder } from './helpers.js';

const fatal = (cause: FatalRecord['cause']): FatalRecord => ({ cause, message: 'x', at: 0 });

function add(store: JobStore, id: string) {
  return store.add({ id, front: false, prompt: {}, extraData: {}, outputsToExecute: [], clientId: null });
}

describe('poison rule: whom a crash counts against', () => {
  it('counts unknown and unattributed crashes against every running job, a job crash against that job, a server crash against none', () => {
    const running = ['a', 'b'];
    expect(countsAgainst(undefined, 'a', running)).toBe(true);
    expect(countsAgainst(fatal({ kind: 'unattributed' }), 'b', running)).toBe(true);
    expect(countsAgainst(fatal({ kind: 'server' }), 'a', running)).toBe(false);
    expect(countsAgainst(fatal({ kind: 'job', jobId: 'a' }), 'a', running)).toBe(true);
    expect(countsAgainst(fatal({ kind: 'job', jobId: 'a' }), 'b', running)).toBe(false);
    // Work tagged with a job that is no longer running (a model session it opened): job work, owner unknown.
    expect(countsAgainst(fatal({ kind: 'job', jobId: 'gone' }), 'b', running)).toBe(true);
  });

  it('tags work scheduled inside a context with that context', async () => {
    expect(currentCause()).toEqual({ kind: 'unattributed' });
    const seen = await Promise.all([
      asServerWork(() => new Promise((r) => setImmediate(() => r(currentCause())))),
      asJobWork('j1', async () => {
        await new Promise((r) => setTimeout(r, 1));
        return currentCause();
      }),
    ]);
    expect(seen).toEqual([{ kind: 'server' }, { kind: 'job', jobId: 'j1' }]);
  });

  it('records nothing while another handler keeps the process alive', () => {
    const got: FatalRecord[] = [];
    const stop = recordFatalErrors((f) => got.push(f));
    try {
      // vitest itself listens for uncaughtException here, so the process would not die: no record.
      (process as NodeJS.EventEmitter).emit('uncaughtExceptionMonitor', new Error('handled elsewhere'), 'uncaughtException');
      expect(process.listenerCount('uncaughtException')).toBeGreaterThan(0);
      expect(got).toEqual([]);
    } finally {
      stop();
    }
  });

  it('recover gives the attempt back to the jobs a recorded crash was not about, and consumes the record', () => {
    const dir = tempBase('fatal');
    let s = new JobStore(dir);
    for (const id of ['a', 'b']) {
      add(s, id);
      s.start(id);
    }
    s.recordFatal(fatal({ kind: 'job', jobId: 'a' }));
    s.close();
    s = new JobStore(dir);
    const r = s.recover(1, poisonRecord);
    expect(r).toMatchObject({ requeued: ['b'], poisoned: ['a'], spared: ['b'], fatal: { cause: { kind: 'job', jobId: 'a' } } });
    expect(s.get('b')!.attempts).toBe(0);
    s.start('b');
    s.recordFatal(fatal({ kind: 'server' }));
    s.close();
    s = new JobStore(dir);
    expect(s.recover(1, poisonRecord)).toMatchObject({ requeued: ['b'], poisoned: [], spared: ['b'] });
    s.start('b');
    s.close();
    // No record this time (kill -9): the attempt counts, and with maxAttempts 1 that poisons it.
    s = new JobStore(dir);
    expect(s.recover(1, poisonRecord)).toEqual({ requeued: [], poisoned: ['b'] });
    s.close();
  });
});

describe.concurrent('poison rule in a real server process', () => {
  it('does not count crashes in an HTTP handler against the running job (three of them poisoned it before)', async () => {
    const base = tempBase('crash-http');
    for (let crash = 1; crash <= 3; crash++) {
      const srv = await startServerProcess({ baseDir: base, nodeArgs: ['--import', CRASH_ON_REQUEST] });
      const ws = await WsRecorder.open(srv.url, 'c');
      if (crash === 1) {
        const r = await postJson(`${srv.url}/prompt`, { prompt: slowWorkflow({ steps: 200, delayMs: 25 }), prompt_id: 'innocent', client_id: 'c' });
        expect(r.status).toBe(200);
      }
      await ws.waitFor((m) => m.type === 'progress');
      await fetch(`${srv.url}/__test/crash`).catch(() => undefined);
      expect(await srv.exited).toBe(1);
      expect(srv.stderr()).toContain('injected crash in an HTTP handler');
      if (crash > 1) expect(srv.stderr()).toMatch(/recovered after server crash .*1 not counted as an attempt/);
    }
    const srv = await startServerProcess({ baseDir: base });
    try {
      expect(await waitJob(srv.url, 'innocent', 30_000)).toMatchObject({ status: 'success', attempts: 1 });
    } finally {
      await srv.stop();
    }
  });

  it('counts a crash in the job\'s own work: poisoned after three', async () => {
    const base = tempBase('crash-node');
    const srv = await startServerProcess({ baseDir: base });
    const prompt = { ...slowWorkflow({ steps: 1, delayMs: 0 }), '2': { class_type: 'ThrowingNode', inputs: { images: ['1', 0] } } };
    await postJson(`${srv.url}/prompt`, { prompt, prompt_id: 'guilty' }).catch(() => undefined);
    expect(await srv.exited).toBe(1);
    expect(srv.stderr()).toContain('injected crash in a node');
    expect(await runUntilExit(base)).toBe(1);
    expect(await runUntilExit(base)).toBe(1);
    const last = await startServerProcess({ baseDir: base });
    try {
      expect(await getJson(`${last.url}/api/jobs/guilty`)).toMatchObject({ status: 'error', attempts: 3 });
      const hist = await getJson<Record<string, { status: { messages: [string, Record<string, unknown>][] } }>>(`${last.url}/history/guilty`);
      expect(hist.guilty!.status.messages.find((m) => m[0] === 'execution_error')![1].exception_type).toBe('PoisonJobError');
      expect(last.stderr()).toMatch(/recovered after job crash \(InjectedCrash: injected crash in a node\)/);
    } finally {
      await last.stop();
    }
  });
});
