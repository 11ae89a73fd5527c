import { describe, expect, it } from 'vitest';
import { OutputNotFoundError, SessionFeedError } from '../../runtime/errors.js';
import { adaptFeeds, convertDtype, fromSessionOutput, planOutputs } from '../../runtime/feeds.js';
import { toHalf } from '../../runtime/float16.js';
import type { IoMeta } from '../../runtime/io-meta.js';
import { Tensor } from '../../runtime/tensor.js';

const meta = (name: string, dtype: IoMeta['dtype'], shape: IoMeta['shape'] | null): IoMeta => ({
  name, dtype, shape: shape ?? [], shapeKnown: shape !== null,
});
const sample = meta('sample', 'float32', ['batch', 4, 'h', 'w']);
const latent = Tensor.zeros([2, 4, 8, 8], 'float32');

describe('adaptFeeds', () => {
  it('casts ids between int32 and int64 both ways', () => {
    const ids32 = new Tensor('int32', Int32Array.from([49406, 320, 49407]), [1, 3]);
    const to64 = adaptFeeds([meta('input_ids', 'int64', ['batch', 'seq'])], { input_ids: ids32 }).input_ids;
    expect(to64.dtype).toBe('int64');
    expect(to64.data).toEqual(BigInt64Array.from([49406n, 320n, 49407n]));
    const back = adaptFeeds([meta('input_ids', 'int32', ['batch', 77])].map((m) => ({ ...m, shape: ['batch', 3] })), { input_ids: to64 }).input_ids;
    expect(back.data).toEqual(ids32.data);
    expect(() => convertDtype(new Tensor('int64', BigInt64Array.from([2n ** 40n]), [1]), 'int32')).toThrow(/does not fit int32/);
  });

  it('shapes a timestep to the declared rank: scalar, [1] or [B]', () => {
    const ts = (shape: IoMeta['shape'], dtype: IoMeta['dtype'] = 'float32'): IoMeta[] => [sample, meta('timestep', dtype, shape)];
    const same = Tensor.float32([999, 999], [2]);
    expect(adaptFeeds(ts([]), { sample: latent, timestep: same }).timestep.shape).toEqual([]);
    expect(adaptFeeds(ts([]), { sample: latent, timestep: Tensor.float32([999], [1]) }).timestep.shape).toEqual([]);
    expect(adaptFeeds(ts([1]), { sample: latent, timestep: same }).timestep.shape).toEqual([1]);
    expect(adaptFeeds(ts([1]), { sample: latent, timestep: Tensor.float32([5], []) }).timestep.shape).toEqual([1]);
    const perRow = adaptFeeds(ts(['batch']), { sample: latent, timestep: Tensor.float32([7], []) }).timestep;
    expect(perRow.shape).toEqual([2]);
    expect([...perRow.data]).toEqual([7, 7]);
    const rows = adaptFeeds(ts(['batch']), { sample: latent, timestep: Tensor.float32([1, 2], [2]) }).timestep;
    expect([...rows.data]).toEqual([1, 2]);
    const i64 = adaptFeeds(ts(['batch'], 'int64'), { sample: latent, timestep: Tensor.float32([980.6, 980.6], [2]) }).timestep;
    expect(i64.data).toEqual(BigInt64Array.from([981n, 981n]));
    const f16 = adaptFeeds(ts([], 'float16'), { sample: latent, timestep: Tensor.float32([999], [1]) }).timestep;
    expect(f16.dtype).toBe('float16');
    expect([...f16.data]).toEqual([toHalf(999)]);
  });

  it('refuses timesteps that cannot fit the declared shape', () => {
    const ts = (shape: IoMeta['shape']): IoMeta[] => [sample, meta('timestep', 'float32', shape)];
    expect(() => adaptFeeds(ts([]), { sample: latent, timestep: Tensor.float32([1, 2], [2]) })).toThrow(/scalar .* 2 different values/);
    expect(() => adaptFeeds(ts([1]), { sample: latent, timestep: Tensor.float32([1, 2], [2]) })).toThrow(/needs 1 value/);
    expect(() => adaptFeeds(ts(['batch']), { sample: latent, timestep: Tensor.float32([1, 2, 3], [3]) })).toThrow(/needs 2 value/);
  });

  it('converts floats to float16 bit patterns and back', () => {
    const x = Tensor.float32([0.1, -2, 65504, 1e-7], [4]);
    const half = adaptFeeds([meta('x', 'float16', [4])], { x }).x;
    expect(half.dtype).toBe('float16');
    expect([...half.data]).toEqual([0.1, -2, 65504, 1e-7].map(toHalf));
    const back = fromSessionOutput('float16', half.data, [4]);
    expect(back.dtype).toBe('float32');
    expect([...back.data].map((v) => Number(v))).toEqual([0.0999755859375, -2, 65504, 1.1920928955078125e-7]);
  });

  it('leaves int64 outputs untouched and widens float64', () => {
    const big = BigInt64Array.from([2n ** 60n]);
    const t = fromSessionOutput('int64', big, [1]);
    expect(t.data).toBe(big);
    expect(fromSessionOutput('float64', Float64Array.from([0.5]), [1]).dtype).toBe('float32');
  });

  it('accepts any rank when the model declares no shape', () => {
    const out = adaptFeeds([meta('x', 'float32', null)], { x: Tensor.zeros([3, 1, 2], 'float32') });
    expect(out.x.shape).toEqual([3, 1, 2]);
  });

  it('names every declared input and everything passed in its errors', () => {
    const inputs = [sample, meta('timestep', 'int64', ['batch']), meta('encoder_hidden_states', 'float32', ['batch', 77, 768])];
    let err: unknown;
    try {
      adaptFeeds(inputs, { sample: latent, timestep: Tensor.float32([1], [1]), encoder_hidden_states: Tensor.zeros([2, 77, 1024], 'float32') });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SessionFeedError);
    const msg = err instanceof Error ? err.message : '';
    expect(msg).toContain('encoder_hidden_states needs dim 2 = 768 but got 1024');
    for (const line of [
      'sample: float32[batch,4,h,w]', 'timestep: int64[batch]', 'encoder_hidden_states: float32[batch,77,768]',
      'sample: float32[2,4,8,8]', 'timestep: float32[1]', 'encoder_hidden_states: float32[2,77,1024]',
    ]) expect(msg).toContain(line);
    expect(() => adaptFeeds([sample], { sample: latent, extra: latent })).toThrow(/unknown input\(s\) extra/);
    expect(() => adaptFeeds([meta('mask', 'bool', [2])], { mask: Tensor.zeros([2], 'float32') })).toThrow(/cannot convert float32 to bool/);
  });
});

describe('planOutputs', () => {
  const outputs = [meta('latent', 'float32', ['b', 4]), meta('extra', 'float32', ['b'])];
  it('matches alias groups, keys by the first alias, falls back to index 0 for the first group', () => {
    expect(planOutputs(outputs, [['out_sample', 'latent']])).toEqual({ fetch: ['latent'], keys: ['out_sample'] });
    expect(planOutputs(outputs, [['out_sample'], ['extra']])).toEqual({ fetch: ['latent', 'extra'], keys: ['out_sample', 'extra'] });
    expect(planOutputs(outputs)).toEqual({ fetch: ['latent', 'extra'], keys: ['latent', 'extra'] });
    expect(() => planOutputs(outputs, [['latent'], ['pooler_output']])).toThrow(OutputNotFoundError);
    expect(() => planOutputs(outputs, [['latent'], ['pooler_output']])).toThrow(/pooler_output.*declared outputs: latent: float32\[b,4\]/);
  });
});
