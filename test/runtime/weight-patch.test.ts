import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { OnnxSession } from '../../runtime/onnx-session.js';
import { readWeightIndex } from '../../runtime/onnx-weights.js';
import { encodeSafetensors } from '../../runtime/safetensors-write.js';
import { Tensor } from '../../runtime/tensor.js';
import { WeightPatchError, computePatch, type WeightPatch } from '../../runtime/weight-patch.js';
import { fromHalf, toHalf } from '../../runtime/float16.js';
import { GraphBuilder } from '../../toyworld/onnx/builder.js';
import { tempDir } from '../fixtures/temp-dir.js';

const dir = tempDir('lf-patch-');

/** y = x @ w (w [3, 2]: a Linear with W [2, 3] stored transposed, as torch exports it), z = Gather(table, ids). */
function model(external: boolean): string {
  const g = new GraphBuilder('patch');
  g.input('x', 'float32', [1, 3]);
  g.input('ids', 'int64', [1, 2]);
  let w: string;
  const wData = Float32Array.from([1, 2, 3, 4, 5, 6]);
  if (external) {
    writeFileSync(path.join(dir, 'ext.bin'), new Uint8Array(wData.buffer));
    w = g.external('w', 'float32', [3, 2], { location: 'ext.bin', offset: 0, length: 24 });
  } else {
    w = g.f32('w', wData, [3, 2]);
  }
  const table = g.f32('table', [0, 0, 1, 1, 2, 2], [3, 2]);
  g.output('y', g.op('MatMul', ['x', w]), 'float32', [1, 2]);
  g.output('z', g.op('Gather', [table, 'ids']), 'float32', [1, 2, 2]);
  const file = path.join(dir, external ? 'ext.onnx' : 'inline.onnx');
  writeFileSync(file, g.toBytes());
  return file;
}

const lora = path.join(dir, 'l.safetensors');
writeFileSync(lora, encodeSafetensors({
  up: { dtype: 'F32', shape: [2, 1], data: [1, -1] },
  down: { dtype: 'F16', shape: [1, 3], data: [0.5, 0, 2] },
  emb: { dtype: 'F32', shape: [2, 2], data: [7, 8, 9, 10] },
  bad: { dtype: 'F32', shape: [1, 4], data: [0, 0, 0, 0] },
}));

const x = new Tensor('float32', Float32Array.from([1, 1, 1]), [1, 3]);
const ids = (a: number, b: number): Tensor<'int64'> => new Tensor('int64', BigInt64Array.from([BigInt(a), BigInt(b)]), [1, 2]);

describe('weight patches', () => {
  for (const external of [false, true]) {
    it(`adds strength x up @ down to a transposed MatMul weight and appends table rows (${external ? 'external' : 'inline'} weights)`, async () => {
      const file = model(external);
      const before = readFileSync(file);
      const patch: WeightPatch = {
        deltas: [{ target: 'w_0', transposed: true, terms: [{ file: lora, up: 'up', down: 'down', scale: 2 }] }],
        append: { target: 'table_1', rows: [{ file: lora, key: 'emb' }] },
      };
      const s = await OnnxSession.create(file, {}, patch);
      // W = w^T = [[1,3,5],[2,4,6]]; up @ down = [[0.5,0,2],[-0.5,0,-2]]; W' = W + 2 * that.
      // y = x @ W'^T = row sums of W' = [9 + 2 * 2.5, 12 - 2 * 2.5] = [14, 7].
      const out = await s.run({ x, ids: ids(3, 4) });
      expect([...(out.y.data as Float32Array)]).toEqual([14, 7]);
      expect([...(out.z.data as Float32Array)]).toEqual([7, 8, 9, 10]);
      expect(s.patchedBytes).toBeGreaterThan(0);
      const base = await OnnxSession.create(file);
      expect([...((await base.run({ x, ids: ids(0, 2) })).y.data as Float32Array)]).toEqual([9, 12]);
      // Nothing is written into the model folder.
      expect(readFileSync(file).equals(before)).toBe(true);
      await s.release();
      await base.release();
    });
  }

  it('patches float16 weights in float32 and rounds once', () => {
    const g = new GraphBuilder('half');
    g.input('x', 'float16', [1, 3]);
    const half = Uint16Array.from([1, 2, 3, 4, 5, 6].map((v) => toHalf(1 + v / 7)));
    const w = g.init('w', { elem: 'float16', dims: [3, 2], raw: new Uint8Array(half.buffer) });
    g.output('y', g.op('MatMul', ['x', w]), 'float16', [1, 2]);
    const file = path.join(dir, 'half.onnx');
    writeFileSync(file, g.toBytes());
    const index = readWeightIndex(file);
    // Each term moves a weight by at most 4e-4, under half an fp16 ulp in [1, 2) (4.9e-4): rounding per term would lose them all.
    const tiny = 2e-4;
    const terms = Array.from({ length: 8 }, () => ({ file: lora, up: 'up', down: 'down', scale: tiny }));
    const { buffer, tensors } = computePatch(index, { deltas: [{ target: 'w_0', transposed: true, terms }] });
    const got = new Uint16Array(buffer, tensors[0].offset, 6);
    expect([...got]).not.toEqual([...half]);
    // Stored [in=3, out=2]: element (i, o) gets 8 * tiny * (up[o] * down[i]).
    const up = [1, -1];
    const down = [0.5, 0, 2];
    for (let i = 0; i < 3; i++) {
      for (let o = 0; o < 2; o++) {
        const base = fromHalf(half[i * 2 + o]);
        expect(got[i * 2 + o]).toBe(toHalf(Math.fround(base + 8 * tiny * up[o] * down[i])));
      }
    }
  });

  it('names the file, the keys and the target when shapes disagree', () => {
    const index = readWeightIndex(model(false));
    expect(() => computePatch(index, { deltas: [{ target: 'w_0', transposed: true, terms: [{ file: lora, up: 'up', down: 'bad', scale: 1 }] }] }))
      .toThrow(WeightPatchError);
    expect(() => computePatch(index, { deltas: [{ target: 'w_0', transposed: true, terms: [{ file: lora, up: 'up', down: 'bad', scale: 1 }] }] }))
      .toThrow(/l\.safetensors: 'up' \[2, 1\] x 'bad' \[1, 4\] make a \[2, 4\] delta, the weight is \[2, 3\] \(target 'w_0' \[3, 2\]\)/);
    expect(() => computePatch(index, { deltas: [{ target: 'nope', transposed: false, terms: [{ file: lora, up: 'up', down: 'down', scale: 1 }] }] }))
      .toThrow(/has no initializer 'nope'/);
  });

  it('builds LoCon Tucker down factors as ComfyUI does: down[o, i, y, x] = sum_r down[r, i] mid[o, r, y, x]', () => {
    const g = new GraphBuilder('conv');
    g.input('x', 'float32', [1, 1]);
    const w = g.f32('conv', [10, 20], [1, 1, 1, 2]);
    g.output('y', g.op('Identity', ['x']), 'float32', [1, 1]);
    const file = path.join(dir, 'conv.onnx');
    writeFileSync(file, g.toBytes());
    const tucker = path.join(dir, 'tucker.safetensors');
    writeFileSync(tucker, encodeSafetensors({
      down: { dtype: 'F32', shape: [2, 1, 1, 1], data: [1, 2] },
      mid: { dtype: 'F32', shape: [2, 2, 1, 2], data: [1, 0, 0, 1, 2, 1, 1, 0] },
      up: { dtype: 'F32', shape: [1, 2, 1, 1], data: [1, -1] },
    }));
    const { buffer, tensors } = computePatch(readWeightIndex(file), { deltas: [{ target: w, transposed: false, terms: [{ file: tucker, up: 'up', down: 'down', mid: 'mid', scale: 0.5 }] }] });
    // down' [o=0] = 1*[1,0] + 2*[0,1] = [1, 2]; [o=1] = 1*[2,1] + 2*[1,0] = [4, 1]; up @ down' = [1-4, 2-1] = [-3, 1].
    expect([...new Float32Array(buffer, tensors[0].offset, 2)]).toEqual([10 - 1.5, 20 + 0.5]);
  });
});
