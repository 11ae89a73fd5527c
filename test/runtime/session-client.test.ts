import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferenceAbortedError, ModelLoadError, SessionClosedError, SessionFeedError, WorkerCrashedError } from '../../runtime/errors.js';
import { SessionClient } from '../../runtime/session-client.js';
import { Tensor } from '../../runtime/tensor.js';
import { GraphBuilder } from '../../toyworld/onnx/builder.js';
import { idsModel, slowModel, unetModel, writeModel } from './fixtures/models.js';

const dir = mkdtempSync(path.join(tmpdir(), 'lf-client-'));
let client: SessionClient;
beforeAll(() => {
  client = new SessionClient({ workers: 1 });
});
afterAll(async () => {
  await client.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SessionClient', () => {
  it('runs a session in a worker and returns float32 outputs under the requested name', async () => {
    const s = await client.load(writeModel(dir, 'olive.onnx', unetModel({ float: 'float16', timestep: 'float16', timestepShape: [1], output: 'latent' })));
    expect(s.inputs.map((i) => `${i.name}:${i.dtype}`)).toEqual(['sample:float16', 'timestep:float16']);
    const sample = Tensor.float32([1, 2, 3, 4], [2, 2]);
    const out = await s.run({ sample, timestep: Tensor.float32([10, 10], [2]) }, { outputs: [['out_sample', 'latent']] });
    expect(out.out_sample.dtype).toBe('float32');
    expect([...out.out_sample.data]).toEqual([11, 12, 13, 14]);
    // Feeds are copied by default: the caller's tensor is still usable.
    expect([...sample.data]).toEqual([1, 2, 3, 4]);
    const moved = Tensor.float32([0, 0, 0, 0], [2, 2]);
    await s.run({ sample: moved, timestep: Tensor.float32([1], [1]) }, { transferInputs: true });
    expect(moved.data.byteLength).toBe(0);
    expect(s.inFlight).toBe(0);
  });

  it('passes int64 outputs through as BigInt64Array and rebuilds named errors from the worker', async () => {
    const identity = new GraphBuilder('identity');
    identity.output('same', identity.input('input_ids', 'int64', ['b', 3]), 'int64', ['b', 3]);
    const ids = await client.load(writeModel(dir, 'id.onnx', identity));
    const out = await ids.run({ input_ids: new Tensor('int32', Int32Array.from([1, 2, 3]), [1, 3]) });
    expect(out.same.data).toEqual(BigInt64Array.from([1n, 2n, 3n]));
    const err = await ids.run({ input_ids: Tensor.float32([1, 2], [2]) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SessionFeedError);
    expect(String(err)).toMatch(/input_ids: int64\[b,3\][\s\S]*input_ids: float32\[2\]/);
    await expect(client.load(path.join(dir, 'missing.onnx'))).rejects.toBeInstanceOf(ModelLoadError);
  });

  it('keeps main-thread timers firing while a long run occupies the worker', async () => {
    const s = await client.load(writeModel(dir, 'slow.onnx', slowModel(384, 24)));
    const x = Tensor.float32(Float32Array.from({ length: 384 * 384 }, (_, i) => Math.sin(i) * 0.05), [384, 384]);
    await s.run({ x }); // warm-up
    let ticks = 0;
    const timer = setInterval(() => {
      ticks++;
    }, 5);
    // Ticks are read as soon as the run resolves: had the run blocked this thread, no timer could have
    // fired during it. Lag itself is measured by the benchmark, not here.
    const t0 = performance.now();
    await s.run({ x });
    const elapsed = performance.now() - t0;
    const seen = ticks;
    clearInterval(timer);
    expect(seen).toBeGreaterThanOrEqual(elapsed > 40 ? 2 : 1);
  });

  it('rejects calls pending on a crashed worker with WorkerCrashedError, then reloads and runs again', async () => {
    const s = await client.load(writeModel(dir, 'ids.onnx', idsModel('int64')));
    const ids = new Tensor('int32', Int32Array.from([1, 2, 3, 4]), [1, 4]);
    const before = client.threadIds();
    client.faultDrill(s);
    const pending = s.run({ input_ids: ids });
    const err = await pending.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerCrashedError);
    expect(String(err)).toMatch(/died \(WorkerFaultDrill/);
    const out = await s.run({ input_ids: ids });
    expect([...out.last_hidden_state.data]).toEqual([2, 4, 6, 8]);
    expect(client.threadIds()).not.toEqual(before);
  });

  it('rejects at once when the signal is already aborted, and when it fires mid-run', async () => {
    const s = await client.load(writeModel(dir, 'ids2.onnx', idsModel('int32')));
    const ids = new Tensor('int32', Int32Array.from([1, 2, 3, 4]), [1, 4]);
    await expect(s.run({ input_ids: ids }, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(InferenceAbortedError);
    const slow = await client.load(path.join(dir, 'slow.onnx'));
    const ac = new AbortController();
    const x = Tensor.zeros([384, 384], 'float32');
    const p = slow.run({ x }, { signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toBeInstanceOf(InferenceAbortedError);
    await expect(s.run({ input_ids: ids })).resolves.toBeDefined();
  });

  it('does not keep the process alive, and rejects calls after close()', async () => {
    const script = path.join(dir, 'exit.mts');
    const modelPath = writeModel(dir, 'exit.onnx', idsModel('int64'));
    const client2 = path.resolve('runtime/session-client.ts');
    writeFileSync(script, `
      import { SessionClient } from ${JSON.stringify(client2)};
      import { Tensor } from ${JSON.stringify(path.resolve('runtime/tensor.ts'))};
      const c = new SessionClient();
      const s = await c.load(${JSON.stringify(modelPath)});
      const out = await s.run({ input_ids: new Tensor('int32', Int32Array.from([1, 2, 3, 4]), [1, 4]) });
      console.log(JSON.stringify([...out.last_hidden_state.data]));
    `);
    const r = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('[2,4,6,8]');

    const c = new SessionClient();
    const s = await c.load(modelPath);
    await c.close();
    await expect(s.run({ input_ids: new Tensor('int32', Int32Array.from([1, 2, 3, 4]), [1, 4]) })).rejects.toBeInstanceOf(SessionClosedError);
  });
});
