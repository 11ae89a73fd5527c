import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OutputNotFoundError, SessionFeedError } from '../../runtime/errors.js';
import { toHalf, fromHalf } from '../../runtime/float16.js';
import type { AnyTensor } from '../../runtime/io-meta.js';
import { OnnxSession } from '../../runtime/onnx-session.js';
import { Tensor } from '../../runtime/tensor.js';
import type { UnetFlavour } from './fixtures/models.js';
import { idsModel, unetModel, writeModel } from './fixtures/models.js';

const dir = mkdtempSync(path.join(tmpdir(), 'lf-session-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const float32Of = (t: AnyTensor | undefined): Float32Array => {
  if (!t || t.dtype !== 'float32') throw new Error(`expected a float32 tensor, got ${t?.dtype}`);
  return t.data;
};

describe('OnnxSession', () => {
  it('feeds the same int32 ids to int32 and int64 text encoders', async () => {
    const ids = new Tensor('int32', Int32Array.from([49406, 320, 49407, 0, 1, 2, 3, 4]), [2, 4]);
    for (const idType of ['int32', 'int64'] as const) {
      const s = await OnnxSession.create(writeModel(dir, `ids-${idType}.onnx`, idsModel(idType)));
      expect(s.inputs).toEqual([{ name: 'input_ids', dtype: idType, shape: ['batch', 4], shapeKnown: true }]);
      const out = await s.run({ input_ids: ids }, [['last_hidden_state', 'text_embeddings']]);
      expect([...float32Of(out.last_hidden_state)]).toEqual([...ids.data].map((v) => 2 * v));
      await s.release();
    }
  });

  it('accepts int64 ids for an int32 model', async () => {
    const s = await OnnxSession.create(writeModel(dir, 'ids32.onnx', idsModel('int32')));
    const out = await s.run({ input_ids: new Tensor('int64', BigInt64Array.from([1n, 2n, 3n, 4n]), [1, 4]) });
    expect([...float32Of(out.last_hidden_state)]).toEqual([2, 4, 6, 8]);
    await s.release();
  });

  const flavours: [string, UnetFlavour][] = [
    ['diffusers float [B]', { float: 'float32', timestep: 'float32', timestepShape: ['batch'], output: 'out_sample' }],
    ['ORT demo float [1]', { float: 'float32', timestep: 'float32', timestepShape: [1], output: 'latent' }],
    ['optimum<=1.23 int64 [B]', { float: 'float32', timestep: 'int64', timestepShape: ['batch'], output: 'out_sample' }],
    ['optimum>=1.24 scalar', { float: 'float32', timestep: 'float32', timestepShape: [], output: 'out_sample' }],
    ['Olive float16 [B]', { float: 'float16', timestep: 'float16', timestepShape: ['batch'], output: 'out_sample' }],
    ['float16 scalar', { float: 'float16', timestep: 'float16', timestepShape: [], output: 'out_sample' }],
  ];
  const sample = Tensor.float32([0.5, -1.25, 3, 0.1], [2, 2]);
  const want = [...sample.data].map((v) => v + 999);

  for (const [label, flavour] of flavours) {
    it(`gives the same U-Net result for ${label}, whether the timestep is [], [1] or [B]`, async () => {
      const s = await OnnxSession.create(writeModel(dir, `${label.replace(/\W+/g, '_')}.onnx`, unetModel(flavour)));
      const tol = flavour.float === 'float16' ? 0.5 : 1e-4; // a half ulp at 1000 is 0.25
      for (const t of [Tensor.float32([999], []), Tensor.float32([999], [1]), Tensor.float32([999, 999], [2])]) {
        const out = await s.run({ sample, timestep: t }, [['out_sample', 'latent']]);
        const got = out.out_sample;
        expect(got.dtype).toBe('float32');
        expect(got.shape).toEqual([2, 2]);
        float32Of(got).forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThanOrEqual(tol));
      }
      await s.release();
    });
  }

  it('float16 models agree with float32 ones within half precision', async () => {
    const f16 = await OnnxSession.create(writeModel(dir, 'olive.onnx', unetModel(flavours[4][1])));
    const x = Tensor.float32([0.1, 0.2, -0.3, 1 / 3], [2, 2]);
    const out = float32Of((await f16.run({ sample: x, timestep: Tensor.float32([0.5, 0.25], [2]) })).out_sample);
    const exact = [0.1 + 0.5, 0.2 + 0.5, -0.3 + 0.25, 1 / 3 + 0.25];
    // Inputs and the sum are each rounded to half once: at most 1.5 ulp of the result.
    exact.forEach((v, i) => expect(out[i]).toBeCloseTo(fromHalf(toHalf(v)), 2));
    exact.forEach((v, i) => expect(Math.abs(out[i] - v)).toBeLessThan(1.5 * 2 ** -10 * Math.max(1, Math.abs(v))));
    await f16.release();
  });

  it('per-row timesteps reach their rows', async () => {
    const s = await OnnxSession.create(writeModel(dir, 'rows.onnx', unetModel(flavours[2][1])));
    const out = await s.run({ sample: Tensor.zeros([2, 2]), timestep: Tensor.float32([10, 20], [2]) });
    expect([...float32Of(out.out_sample)]).toEqual([10, 10, 20, 20]);
    await s.release();
  });

  it('names every declared input and what was passed when feeds mismatch', async () => {
    const s = await OnnxSession.create(writeModel(dir, 'err.onnx', unetModel(flavours[0][1])));
    const err = await s.run({ sample: Tensor.zeros([2, 3, 4]), timestep: Tensor.float32([1], [1]) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SessionFeedError);
    const msg = err instanceof Error ? err.message : '';
    expect(msg).toContain('sample: float32[batch,2]');
    expect(msg).toContain('timestep: float32[batch]');
    expect(msg).toContain('sample: float32[2,3,4]');
    expect(msg).toContain('rank');
    await expect(s.run({ sample: Tensor.zeros([2, 2]) })).rejects.toThrow(/missing input\(s\) timestep/);
    await expect(s.run({ sample: Tensor.zeros([2, 2]), timestep: Tensor.zeros([1]) }, [['nope']])).resolves.toBeDefined();
    await expect(s.run({ sample: Tensor.zeros([2, 2]), timestep: Tensor.zeros([1]) }, [['out_sample'], ['pooler_output']])).rejects.toBeInstanceOf(OutputNotFoundError);
    await s.release();
  });
});
