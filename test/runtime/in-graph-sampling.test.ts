import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inspectModelFile } from '../../runtime/model-file.js';
import { OnnxSession } from '../../runtime/onnx-session.js';
import { Tensor } from '../../runtime/tensor.js';
import { A, GraphBuilder } from '../../toyworld/onnx/builder.js';

const dir = mkdtempSync(path.join(tmpdir(), 'lf-random-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SHAPE = [1, 3, 4, 4];
const STD = 0.7;

/**
 * A vae_encoder as the diffusers conversion script exports it: latent_sample = mean + std * RandomNormalLike(mean)
 * (`form: 'like'`), or with a static RandomNormal of the latent's shape; `std` from external data when asked.
 */
function samplingEncoder(file: string, form: 'like' | 'static', externalStd = false): string {
  const g = new GraphBuilder('vae_encoder');
  const x = g.input('sample', 'float32', SHAPE);
  const mean = g.op('Mul', [x, g.f32('half', [0.5], [])]);
  let std: string;
  if (externalStd) {
    writeFileSync(path.join(dir, `${file}.bin`), Buffer.from(new Float32Array([STD]).buffer));
    std = g.external('std', 'float32', [], { location: `${file}.bin`, offset: 0, length: 4 });
  } else {
    std = g.f32('std', [STD], []);
  }
  const noise = form === 'like'
    ? g.op('RandomNormalLike', [mean], { dtype: A.i(1) })
    : g.op('RandomNormal', [], { shape: A.ints(SHAPE), dtype: A.i(1), scale: A.f(1) });
  g.output('latent_sample', g.op('Add', [mean, g.op('Mul', [noise, std])]), 'float32', SHAPE);
  const p = path.join(dir, `${file}.onnx`);
  writeFileSync(p, g.toBytes());
  return p;
}

const pixels = new Tensor('float32', Float32Array.from({ length: 48 }, (_, i) => Math.sin(i)), SHAPE);
const means = Array.from(pixels.data, (v) => Math.fround(v * 0.5));

describe('in-graph sampling (diffusers vae_encoder: latent_dist.sample())', () => {
  for (const [form, external] of [['like', false], ['static', false], ['like', true]] as const) {
    it(`a ${form === 'like' ? 'RandomNormalLike' : 'RandomNormal'} encoder${external ? ' with external data' : ''} gives the mean, the same on every run`, async () => {
      const file = samplingEncoder(`enc-${form}-${external}`, form, external);
      const info = inspectModelFile(file);
      expect(info.randomNodes).toEqual([{ name: expect.any(String), opType: form === 'like' ? 'RandomNormalLike' : 'RandomNormal', zeroed: true }]);
      const s = await OnnxSession.create(file);
      const a = await s.run({ sample: pixels });
      const b = await s.run({ sample: pixels });
      expect(Array.from(a.latent_sample.data as Float32Array)).toEqual(means);
      expect(Array.from(b.latent_sample.data as Float32Array)).toEqual(means);
      await s.release();
    });
  }

  it('reports, and leaves alone, random operators it cannot turn into a mean (RandomUniformLike, a non-zero mean)', () => {
    const g = new GraphBuilder('other');
    const x = g.input('sample', 'float32', SHAPE);
    const u = g.op('RandomUniformLike', [x]);
    const n = g.op('RandomNormalLike', [x], { mean: A.f(2) });
    g.output('out', g.op('Add', [u, n]), 'float32', SHAPE);
    const p = path.join(dir, 'other.onnx');
    writeFileSync(p, g.toBytes());
    expect(inspectModelFile(p).randomNodes.map((r) => [r.opType, r.zeroed])).toEqual([['RandomUniformLike', false], ['RandomNormalLike', false]]);
  });

  it('finds none in a model without random operators', () => {
    const g = new GraphBuilder('plain');
    const x = g.input('sample', 'float32', SHAPE);
    g.output('out', g.op('Relu', [x]), 'float32', SHAPE);
    const p = path.join(dir, 'plain.onnx');
    writeFileSync(p, g.toBytes());
    expect(inspectModelFile(p).randomNodes).toEqual([]);
  });
});
