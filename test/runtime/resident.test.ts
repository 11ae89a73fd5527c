import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResidentTensorError, WorkerCrashedError } from '../../runtime/errors.js';
import { float32Output, type TensorMap } from '../../runtime/io-meta.js';
import { ResidentTensor, RowStack, type ResidentHost } from '../../runtime/resident.js';
import { packFeeds } from '../../runtime/send-feeds.js';
import { SessionClient, type RemoteSession } from '../../runtime/session-client.js';
import { Tensor } from '../../runtime/tensor.js';
import { GraphBuilder } from '../../toyworld/onnx/builder.js';
import { writeModel } from './fixtures/models.js';

/** `y = x + e`, both [batch, 3]. */
function addModel(): GraphBuilder {
  const g = new GraphBuilder('add');
  g.output('y', g.op('Add', [g.input('x', 'float32', ['batch', 3]), g.input('e', 'float32', ['batch', 3])]), 'float32', ['batch', 3]);
  return g;
}

const rows = (n: number, base: number) => Tensor.float32(Float32Array.from({ length: n * 3 }, (_, i) => base + Math.floor(i / 3) * 10 + (i % 3)), [n, 3]);
const y = (out: TensorMap) => float32Output(out, 'y').data;
const zeros = (n: number) => Tensor.float32(new Float32Array(n * 3), [n, 3]);

const dir = mkdtempSync(path.join(tmpdir(), 'lf-resident-'));
let client: SessionClient;
let session: RemoteSession;
beforeAll(async () => {
  client = new SessionClient({ workers: 1 });
  session = await client.load(writeModel(dir, 'add.onnx', addModel()));
});
afterAll(async () => {
  await client.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('resident tensors', () => {
  it('runs with a kept tensor as a feed, before and after release, and leaves it usable', async () => {
    const e = rows(2, 100);
    const kept = await session.keep(e);
    expect(kept).toBeInstanceOf(ResidentTensor);
    expect(kept.data).toBe(e.data);
    const out = await session.run({ x: zeros(2), e: kept });
    expect(Array.from(y(out))).toEqual(Array.from(e.data));
    await kept.release();
    expect(kept.released).toBe(true);
    await kept.release();
    const again = await session.run({ x: rows(2, 1), e: kept });
    expect(Array.from(y(again))).toEqual([101, 103, 105, 121, 123, 125]);
  });

  it('assembles a row stack of kept rows, plain rows and a repeated last row in the worker', async () => {
    const a = await session.keep(rows(2, 100));
    const b = await session.keep(rows(3, 200));
    const plain = rows(1, 900);
    const e = new RowStack([
      { tensor: b, from: 1, to: 3 },
      { tensor: plain, from: 0, to: 1 },
      { tensor: a, from: 1, to: 2 },
      { tensor: a, from: 1, to: 2 },
    ]);
    expect(e.shape).toEqual([5, 3]);
    for (let i = 0; i < 2; i++) {
      const out = await session.run({ x: zeros(5), e });
      expect(Array.from(y(out))).toEqual([210, 211, 212, 220, 221, 222, 900, 901, 902, 110, 111, 112, 110, 111, 112]);
    }
    expect(Array.from(plain.data)).toEqual([900, 901, 902]);
    // A released part travels inline from then on.
    await b.release();
    const out = await session.run({ x: zeros(5), e });
    expect(Array.from(y(out).subarray(0, 3))).toEqual([210, 211, 212]);
    await a.release();
  });

  it('rejects stacks whose parts do not share a row shape or reach outside their tensor', () => {
    expect(() => new RowStack([{ tensor: rows(2, 0), from: 0, to: 2 }, { tensor: Tensor.float32(new Float32Array(4), [1, 4]), from: 0, to: 1 }])).toThrow(ResidentTensorError);
    expect(() => new RowStack([{ tensor: rows(2, 0), from: 1, to: 3 }])).toThrow(/rows \[1, 3\) are outside float32\[2,3\]/);
    expect(() => new RowStack([])).toThrow(ResidentTensorError);
  });

  it('falls back to sending the data when the worker that held the tensor died', async () => {
    const kept = await session.keep(rows(1, 7));
    client.faultDrill(session);
    await expect(session.run({ x: zeros(1), e: kept })).rejects.toBeInstanceOf(WorkerCrashedError);
    const out = await session.run({ x: zeros(1), e: kept });
    expect(Array.from(y(out))).toEqual([7, 8, 9]);
    await kept.release();
  });

  it('hands over the buffers of the feeds named in transferInputs only', async () => {
    const x = rows(1, 1);
    const e = rows(1, 2);
    const out = await session.run({ x, e }, { transferInputs: ['x'] });
    expect(Array.from(y(out))).toEqual([3, 5, 7]);
    expect(x.data.byteLength).toBe(0);
    expect(Array.from(e.data)).toEqual([2, 3, 4]);
  });
});

describe('packFeeds', () => {
  const host = (generation = 0): ResidentHost => ({ generation, drop: async () => undefined });

  it('sends a held resident tensor as a handle and copies every other row at call time', () => {
    const h = host();
    const kept = new ResidentTensor(rows(2, 0), h, 0, 41);
    const plain = rows(1, 5);
    const packed = packFeeds({ e: new RowStack([{ tensor: kept, from: 0, to: 2 }, { tensor: plain, from: 0, to: 1 }]), w: kept, x: zeros(3) });
    plain.data.fill(-1); // later writes by the caller do not reach the message
    const { feeds, rows: stacks, transfer } = packed.finish(h);
    expect(Object.keys(feeds)).toEqual(['x']);
    expect(stacks?.w.parts).toEqual([{ handle: 41, from: 0, to: 2 }]);
    expect(stacks?.e.parts[0]).toEqual({ handle: 41, from: 0, to: 2 });
    const inline = stacks?.e.parts[1];
    expect(inline && 'tensor' in inline ? Array.from(new Float32Array(inline.tensor.buffer)) : []).toEqual([5, 6, 7]);
    expect(transfer).toHaveLength(2);
    expect(transfer).not.toContain(kept.data.buffer);
  });

  it('copies a resident tensor whose host lost it, or that lives in another worker', () => {
    const h = host();
    const kept = new ResidentTensor(rows(1, 3), h, 0, 9);
    for (const where of [host(), undefined, { generation: 1, drop: h.drop }]) {
      const { rows: stacks } = packFeeds({ e: kept }).finish(where);
      const part = stacks?.e.parts[0];
      expect(part && 'tensor' in part ? Array.from(new Float32Array(part.tensor.buffer)) : []).toEqual([3, 4, 5]);
    }
  });
});
