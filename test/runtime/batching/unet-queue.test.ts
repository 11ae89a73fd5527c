import { describe, expect, it } from 'vitest';
import { Tensor } from '../../../runtime/tensor.js';
import type { Dim, FeedMap, IoMeta, TensorMap } from '../../../runtime/io-meta.js';
import { SessionHandle, type DiffusionSession } from '../../../runtime/session-handle.js';
import { UNetQueue, mergeKey, type UNetRequest } from '../../../runtime/batching/unet-queue.js';
import { StepScheduler, type JobLane } from '../../../runtime/batching/index.js';
import { ResidentTensor, RowStack } from '../../../runtime/resident.js';
import type { SessionFeeds } from '../../../runtime/send-feeds.js';
import type { RunOptions } from '../../../runtime/session-client.js';

interface Recorded {
  rows: number;
  timesteps: number[];
}

/** A U-Net stand-in: out = sample * 10 + timestep of the row, so misplaced rows are visible. */
class FakeUNet implements DiffusionSession {
  readonly calls: Recorded[] = [];
  readonly outputs: readonly IoMeta[] = [{ name: 'out_sample', dtype: 'float32', shape: ['batch', 2, 'h', 'w'], shapeKnown: true }];
  readonly inputs: readonly IoMeta[];
  gate: Promise<void> | undefined;

  constructor(timestepShape: readonly Dim[] = ['batch'], batchDim: Dim = 'batch') {
    this.inputs = [
      { name: 'sample', dtype: 'float32', shape: [batchDim, 2, 'h', 'w'], shapeKnown: true },
      { name: 'timestep', dtype: 'float32', shape: timestepShape, shapeKnown: true },
      { name: 'encoder_hidden_states', dtype: 'float32', shape: [batchDim, 'seq', 3], shapeKnown: true },
    ];
  }

  async run(feeds: FeedMap): Promise<TensorMap> {
    const sample = feeds.sample;
    const ts = feeds.timestep;
    if (!(sample.data instanceof Float32Array) || !(ts.data instanceof Float32Array)) throw new TypeError('float32 feeds expected');
    const rows = sample.shape[0];
    const timesteps = Array.from(ts.data);
    this.calls.push({ rows, timesteps });
    await this.gate;
    const size = sample.size / rows;
    const out = new Float32Array(sample.size);
    for (let r = 0; r < rows; r++) for (let i = 0; i < size; i++) out[r * size + i] = sample.data[r * size + i] * 10 + timesteps[r];
    return { out_sample: new Tensor('float32', out, sample.shape) };
  }
}

function queueOver(fake: FakeUNet, opts: ConstructorParameters<typeof UNetQueue>[1] = {}): UNetQueue {
  return new UNetQueue(new SessionHandle({ session: async () => fake }, 'fake.onnx'), opts);
}

/** A request of `rows` rows at timestep t; sample values start at `base`. */
function request(rows: number, t: number, base: number, hw = 2, signal?: AbortSignal): UNetRequest {
  const sample = Float32Array.from({ length: rows * 2 * hw * hw }, (_, i) => base + i / 100);
  return {
    sample: new Tensor('float32', sample, [rows, 2, hw, hw]),
    timesteps: new Float64Array(rows).fill(t),
    encoderHiddenStates: new Tensor('float32', new Float32Array(rows * 4 * 3).fill(base), [rows, 4, 3]),
    signal,
  };
}

function expected(r: UNetRequest): number[] {
  const size = r.sample.size / r.sample.shape[0];
  return Array.from(r.sample.data, (v, i) => Math.fround(v * 10 + Math.fround(r.timesteps[Math.floor(i / size)])));
}

/** Lets the event loop turn until `cond` holds (a call has reached the fake session, say). */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) await new Promise((r) => setImmediate(r));
  expect(cond()).toBe(true);
}

function deferred(): { promise: Promise<void>; open: () => void } {
  let open: () => void = () => {};
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('UNetQueue merging', () => {
  it('merges requests waiting together into one call with per-row timesteps and scatters the rows back', async () => {
    const fake = new FakeUNet();
    const q = queueOver(fake);
    const reqs = [request(2, 900, 1), request(2, 500, 2), request(1, 10, 3)];
    const outs = await Promise.all(reqs.map((r) => q.submit(r)));
    expect(fake.calls).toEqual([{ rows: 5, timesteps: [900, 900, 500, 500, 10] }]);
    outs.forEach((o, i) => {
      expect(o.shape).toEqual(reqs[i].sample.shape);
      expect(Array.from(o.data)).toEqual(expected(reqs[i]));
    });
    expect(q.stats()).toEqual({ calls: 1, rows: 5, merged: 1 });
  });

  it('keeps requests with different keys (latent size, conditioning length) in separate calls', async () => {
    const fake = new FakeUNet();
    const q = queueOver(fake);
    const small = request(2, 900, 1, 2);
    const big = request(2, 900, 2, 3);
    expect(mergeKey(small)).not.toBe(mergeKey(big));
    const outs = await Promise.all([q.submit(small), q.submit(big), q.submit(request(2, 800, 3, 2))]);
    expect(fake.calls.map((c) => c.rows)).toEqual([4, 2]);
    expect(Array.from(outs[1].data)).toEqual(expected(big));
  });

  it('caps the rows of a call at maxBatch and splits a request larger than the cap', async () => {
    const fake = new FakeUNet();
    const q = queueOver(fake, { maxBatch: 3 });
    const reqs = [request(2, 900, 1), request(2, 800, 2), request(1, 700, 3)];
    const outs = await Promise.all(reqs.map((r) => q.submit(r)));
    expect(fake.calls.map((c) => c.rows)).toEqual([3, 2]);
    outs.forEach((o, i) => expect(Array.from(o.data)).toEqual(expected(reqs[i])));

    const one = new FakeUNet();
    const q1 = queueOver(one, { maxBatch: 1 });
    const cfg = request(2, 600, 4);
    expect(Array.from((await q1.submit(cfg)).data)).toEqual(expected(cfg));
    expect(one.calls).toEqual([{ rows: 1, timesteps: [600] }, { rows: 1, timesteps: [600] }]);
  });

  it('falls back to one request per call when the timestep is a scalar or fixed to one value', async () => {
    for (const shape of [[], [1]] as Dim[][]) {
      const fake = new FakeUNet(shape);
      const q = queueOver(fake);
      const reqs = [request(2, 900, 1), request(2, 500, 2)];
      const outs = await Promise.all(reqs.map((r) => q.submit(r)));
      expect(fake.calls.map((c) => c.rows)).toEqual([2, 2]);
      outs.forEach((o, i) => expect(Array.from(o.data)).toEqual(expected(reqs[i])));
    }
  });

  it('pads calls to a fixed batch and splits requests longer than it', async () => {
    const fake = new FakeUNet([4], 4);
    const q = queueOver(fake);
    const reqs = [request(6, 900, 1), request(1, 300, 2)];
    const outs = await Promise.all(reqs.map((r) => q.submit(r)));
    expect(fake.calls).toEqual([
      { rows: 4, timesteps: [900, 900, 900, 900] },
      { rows: 4, timesteps: [900, 900, 300, 300] },
    ]);
    outs.forEach((o, i) => expect(Array.from(o.data)).toEqual(expected(reqs[i])));
  });
});

describe('UNetQueue scheduling', () => {
  it('serves a front job first and the others round-robin', async () => {
    const fake = new FakeUNet();
    const q = queueOver(fake);
    const sched = new StepScheduler({ maxBatch: 1, maxWaitMs: 0 });
    const a = sched.lane('a');
    const b = sched.lane('b');
    const f = sched.lane('f', { front: true });
    const hold = deferred();
    fake.gate = hold.promise;
    const first = q.submit({ ...request(1, 1, 0), lane: a });
    await until(() => fake.calls.length === 1);
    // While the first call runs: a queues two more, b one, and the front job one.
    const rest = [
      q.submit({ ...request(1, 2, 0), lane: a }),
      q.submit({ ...request(1, 3, 0), lane: a }),
      q.submit({ ...request(1, 4, 0), lane: b }),
      q.submit({ ...request(1, 5, 0), lane: f }),
    ];
    fake.gate = undefined;
    hold.open();
    await Promise.all([first, ...rest]);
    expect(fake.calls.map((c) => c.timesteps[0])).toEqual([1, 5, 4, 2, 3]);
    expect([a.steps, b.steps, f.steps]).toEqual([3, 1, 1]);
  });

  it('waits briefly for a job of the previous call that comes back late, and only when asked to', async () => {
    for (const maxWaitMs of [200, 0]) {
      const fake = new FakeUNet();
      const q = queueOver(fake);
      const sched = new StepScheduler({ maxWaitMs });
      const a = sched.lane('a');
      const b = sched.lane('b');
      await Promise.all([q.submit({ ...request(1, 1, 0), lane: a }), q.submit({ ...request(1, 2, 0), lane: b })]);
      const late = new Promise<Tensor>((resolve) => setTimeout(() => resolve(q.submit({ ...request(1, 4, 0), lane: b })), 20));
      await Promise.all([q.submit({ ...request(1, 3, 0), lane: a }), late]);
      expect(fake.calls.map((c) => c.rows)).toEqual(maxWaitMs > 0 ? [2, 2] : [2, 1, 1]);
    }
  });

  it('drops an interrupted request (waiting or in flight) and still serves the others', async () => {
    const fake = new FakeUNet();
    const q = queueOver(fake, { maxBatch: 2 });
    const hold = deferred();
    fake.gate = hold.promise;
    const inFlight = new AbortController();
    const waiting = new AbortController();
    const r1 = request(1, 1, 1, 2, inFlight.signal);
    const r2 = request(1, 2, 2);
    const r3 = request(1, 3, 3, 2, waiting.signal);
    const r4 = request(1, 4, 4);
    const p1 = q.submit(r1);
    const p2 = q.submit(r2);
    await until(() => fake.calls.length === 1);
    const p3 = q.submit(r3);
    const p4 = q.submit(r4);
    inFlight.abort(new Error('stop 1'));
    waiting.abort(new Error('stop 3'));
    fake.gate = undefined;
    hold.open();
    await expect(p1).rejects.toThrow('stop 1');
    await expect(p3).rejects.toThrow('stop 3');
    expect(Array.from((await p2).data)).toEqual(expected(r2));
    expect(Array.from((await p4).data)).toEqual(expected(r4));
    expect(fake.calls.map((c) => c.timesteps)).toEqual([[1, 2], [4]]);
  });

  it('rejects every merged request when the call fails', async () => {
    const fake = new FakeUNet();
    fake.gate = Promise.reject(new Error('worker died'));
    fake.gate.catch(() => undefined);
    const q = queueOver(fake);
    const results = await Promise.allSettled([q.submit(request(1, 1, 1)), q.submit(request(1, 2, 2))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(fake.calls).toHaveLength(1);
  });
});

/** Like a worker session: keeps tensors and takes row stacks; records what each call was given. */
class StackingUNet extends FakeUNet {
  readonly given: { feeds: SessionFeeds; opts?: RunOptions }[] = [];
  readonly host = { generation: 0, drop: async () => undefined };
  async keep(t: Tensor): Promise<ResidentTensor> {
    return new ResidentTensor(t, this.host, 0, 1);
  }
  override async run(feeds: SessionFeeds, opts?: RunOptions): Promise<TensorMap> {
    this.given.push({ feeds, opts });
    const { sample, timestep } = feeds;
    if (sample instanceof RowStack || timestep instanceof RowStack) throw new TypeError('sample and timestep are plain tensors');
    return super.run({ sample, timestep });
  }
}

describe('UNetQueue with a worker session', () => {
  it('names the conditioning rows of a merged call (RowStack, padding included) and hands over a fresh sample and timesteps', async () => {
    const fake = new StackingUNet([4], 4);
    const q = queueOver(fake);
    const reqs = [request(1, 900, 1), request(2, 500, 2)];
    const outs = await Promise.all(reqs.map((r) => q.submit(r)));
    outs.forEach((o, i) => expect(Array.from(o.data)).toEqual(expected(reqs[i])));
    const [{ feeds, opts }] = fake.given;
    expect(opts?.transferInputs).toEqual(['sample', 'timestep']);
    const ehs = feeds.encoder_hidden_states;
    if (!(ehs instanceof RowStack)) throw new TypeError('expected a row stack');
    expect(ehs.shape).toEqual([4, 4, 3]);
    expect(ehs.parts.map((p) => [p.tensor === reqs[0].encoderHiddenStates ? 0 : 1, p.from, p.to])).toEqual([[0, 0, 1], [1, 0, 2], [1, 1, 2]]);
    for (const r of reqs) expect(feeds.sample).not.toHaveProperty('data', r.sample.data);
  });

  it('passes a kept tensor of a request served alone as is, and copies the sample it hands over', async () => {
    const fake = new StackingUNet();
    const q = queueOver(fake);
    const r = request(2, 700, 1);
    const kept = await q.keep(r.encoderHiddenStates);
    if (!(kept instanceof ResidentTensor)) throw new TypeError('expected a resident tensor');
    const out = await q.submit({ ...r, encoderHiddenStates: kept });
    expect(Array.from(out.data)).toEqual(expected(r));
    const [{ feeds }] = fake.given;
    expect(feeds.encoder_hidden_states).toBe(kept);
    expect(feeds.sample).not.toBe(r.sample);
    expect(feeds.sample.shape).toEqual(r.sample.shape);
    expect(feeds.sample instanceof Tensor && feeds.sample.data instanceof Float32Array && Array.from(feeds.sample.data)).toEqual(Array.from(r.sample.data));
    await q.release(kept);
    expect(kept.released).toBe(true);
    // A session that cannot keep tensors gets the tensor back.
    const plain = queueOver(new FakeUNet());
    expect(await plain.keep(r.encoderHiddenStates)).toBe(r.encoderHiddenStates);
  });
});

describe('UNetQueue hand-over and other outputs', () => {
  it('transfers handed-over extras of a request served alone, and copies them in a merged call', async () => {
    const fake = new StackingUNet([4]);
    const q = queueOver(fake);
    const withResidual = (r: UNetRequest): UNetRequest => ({ ...r, extra: { res: new Tensor('float32', new Float32Array(r.sample.shape[0]), [r.sample.shape[0], 1]) }, handOver: ['res'] });
    await q.submit(withResidual(request(1, 900, 1)));
    expect(fake.given[0]!.opts?.transferInputs).toEqual(['sample', 'timestep', 'res']);
    await Promise.all([q.submit(withResidual(request(1, 900, 1))), q.submit(withResidual(request(1, 500, 2)))]);
    expect(fake.given[1]!.opts?.transferInputs).toEqual(['sample', 'timestep']);
  });

  it("with 'all' outputs scatters every output's rows to each merged request", async () => {
    class TwoOutputs extends FakeUNet {
      override readonly outputs: readonly IoMeta[] = [
        { name: 'a', dtype: 'float32', shape: ['batch', 1], shapeKnown: true },
        { name: 'b', dtype: 'float32', shape: ['batch', 3], shapeKnown: true },
      ];
      override async run(feeds: FeedMap): Promise<TensorMap> {
        const ts = Array.from(feeds.timestep.data as Float32Array);
        return {
          a: new Tensor('float32', Float32Array.from(ts), [ts.length, 1]),
          b: new Tensor('float32', Float32Array.from(ts.flatMap((t) => [t, t + 1, t + 2])), [ts.length, 3]),
        };
      }
    }
    const q = new UNetQueue(new SessionHandle({ session: async () => new TwoOutputs() }, 'cn.onnx'), {}, 'all');
    const [x, y] = await Promise.all([q.submitAll(request(1, 900, 1)), q.submitAll(request(2, 500, 2))]);
    expect(q.stats().merged).toBe(1);
    expect(Array.from(x!.a!.data)).toEqual([900]);
    expect(Array.from(x!.b!.data)).toEqual([900, 901, 902]);
    expect(y!.b!.shape).toEqual([2, 3]);
    expect(Array.from(y!.a!.data)).toEqual([500, 500]);
  });
});

describe('StepScheduler', () => {
  it('rejects a row cap below one', () => {
    expect(() => new StepScheduler({ maxBatch: 0 })).toThrow(/maxBatch/);
  });

  it('forgets a closed job', () => {
    const s = new StepScheduler();
    const lanes: JobLane[] = [s.lane('a'), s.lane('b')];
    expect(s.running).toBe(2);
    lanes[0].close();
    lanes[0].close();
    expect(s.running).toBe(1);
  });
});
