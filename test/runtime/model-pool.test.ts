import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ModelLoadError, RuntimeConfigError, SessionClosedError } from '../../runtime/errors.js';
import { DEFAULT_MEMORY_BUDGET_BYTES, ModelPool } from '../../runtime/model-pool.js';
import { Tensor } from '../../runtime/tensor.js';
import { bytesTensor, idsModel, slowModel, writeModel } from './fixtures/models.js';

const dir = mkdtempSync(path.join(tmpdir(), 'lf-pool-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let pool: ModelPool | undefined;
afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

const PAD = 40_000;
/** An ids model padded with an unused 40 kB initializer so its size estimate is known. */
function padded(name: string): string {
  const g = idsModel('int64');
  g.init('pad', bytesTensor(new Uint8Array(PAD)));
  return writeModel(dir, `${name}.onnx`, g);
}
const ids = new Tensor('int32', Int32Array.from([1, 2, 3, 4]), [1, 4]);
const loadedNames = (p: ModelPool): string[] => p.stats().sessions.filter((s) => s.loaded).map((s) => path.basename(s.path));

describe('ModelPool', () => {
  it('loads a model once and shares it between concurrent callers', async () => {
    pool = new ModelPool({ memoryBudgetBytes: 10 * PAD });
    const a = padded('share');
    const [s1, s2, s3] = await Promise.all([pool.session(a), pool.session(a), pool.session(path.relative(process.cwd(), a))]);
    expect(s1).toBe(s2);
    expect(s1).toBe(s3);
    expect(pool.stats().loads).toBe(1);
    expect(s1.bytes).toBe(statSync(a).size);
    expect([...(await s1.run({ input_ids: ids })).last_hidden_state.data]).toEqual([2, 4, 6, 8]);
    // Different session options make a different session; equal ones (any key order) share it.
    const o1 = await pool.session(a, { freeDimensionOverrides: { batch: 1 }, intraOpNumThreads: 1 });
    const o2 = await pool.session(a, { intraOpNumThreads: 1, freeDimensionOverrides: { batch: 1 } });
    expect(o1).toBe(o2);
    expect(o1).not.toBe(s1);
    expect(pool.stats().loads).toBe(2);
    expect([...(await o1.run({ input_ids: ids })).last_hidden_state.data]).toEqual([2, 4, 6, 8]);
  });

  it('evicts the least recently used idle session past the budget, and reloads it on use', async () => {
    pool = new ModelPool({ memoryBudgetBytes: 2.5 * PAD });
    const [a, b, c] = ['a', 'b', 'c'].map(padded);
    const sa = await pool.session(a);
    const sb = await pool.session(b);
    await sa.run({ input_ids: ids }); // a is now more recent than b
    await pool.session(c);
    await new Promise((r) => setTimeout(r, 20));
    expect(loadedNames(pool)).toEqual(['a.onnx', 'c.onnx']);
    expect(pool.stats().evictions).toBe(1);
    expect(pool.stats().residentBytes).toBeLessThanOrEqual(pool.budgetBytes);
    // The evicted proxy stays valid: using it reloads it and pushes out the next least recent (a).
    expect([...(await sb.run({ input_ids: ids })).last_hidden_state.data]).toEqual([2, 4, 6, 8]);
    expect(loadedNames(pool)).toEqual(['c.onnx', 'b.onnx']);
    expect(pool.stats().sessions.map((s) => path.basename(s.path))).toEqual(['a.onnx', 'c.onnx', 'b.onnx']);
  });

  it('never evicts a session with a run in flight', async () => {
    pool = new ModelPool({ memoryBudgetBytes: 1 });
    const slow = await pool.session(writeModel(dir, 'slow.onnx', slowModel(512, 24)));
    let done = false;
    const running = slow.run({ x: Tensor.zeros([512, 512], 'float32') }).finally(() => {
      done = true;
    });
    // Loading another model enforces the budget before the load is sent, while the run is in flight.
    const loading = pool.session(padded('other'));
    await new Promise((r) => setTimeout(r, 30));
    const during = pool.stats();
    expect(done).toBe(false);
    expect(during.evictions).toBe(0);
    expect(during.sessions.find((s) => s.path.endsWith('slow.onnx'))).toMatchObject({ loaded: true, inFlight: 1 });
    await running;
    const other = await loading;
    await other.run({ input_ids: ids });
    await new Promise((r) => setTimeout(r, 20));
    // Once idle, the budget holds again: only the most recently used session stays.
    expect(loadedNames(pool)).toEqual(['other.onnx']);
  });

  it('evictAll unloads idle sessions; close rejects later use', async () => {
    pool = new ModelPool();
    expect(pool.budgetBytes).toBe(DEFAULT_MEMORY_BUDGET_BYTES);
    const s = await pool.session(padded('all'));
    await pool.evictAll();
    expect(pool.stats().residentBytes).toBe(0);
    expect([...(await s.run({ input_ids: ids })).last_hidden_state.data]).toEqual([2, 4, 6, 8]);
    await pool.close();
    await expect(pool.session(padded('late'))).rejects.toBeInstanceOf(SessionClosedError);
    await expect(s.run({ input_ids: ids })).rejects.toBeInstanceOf(SessionClosedError);
  });

  it('forgets a failed load so a later call retries, and validates its budget', async () => {
    pool = new ModelPool();
    await expect(pool.session(path.join(dir, 'nope.onnx'))).rejects.toBeInstanceOf(ModelLoadError);
    await expect(pool.session(path.join(dir, 'nope.onnx'))).rejects.toBeInstanceOf(ModelLoadError);
    expect(pool.stats().sessions).toEqual([]);
    expect(() => new ModelPool({ memoryBudgetBytes: 0 })).toThrow(RuntimeConfigError);
  });
});
