import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyModel } from '../../model-hub/verify.js';
import { inspectModelFile } from '../../runtime/model-file.js';
import { A, GraphBuilder } from '../../toyworld/onnx/builder.js';
import { tempDir } from '../fixtures/temp-dir.js';

/** A diffusers-style vae_encoder: latent_sample = mean + 0.5 * RandomNormalLike(mean). */
function samplingEncoder(): Uint8Array {
  const g = new GraphBuilder('vae_encoder');
  const x = g.input('sample', 'float32', ['batch', 3, 'height', 'width']);
  const mean = g.op('AveragePool', [x], { kernel_shape: A.ints([8, 8]), strides: A.ints([8, 8]) });
  const four = g.op('Concat', [mean, mean, mean, g.op('Slice', [mean, g.i64('s', [0]), g.i64('e', [1]), g.i64('a', [1])])], { axis: A.i(1) });
  const noise = g.op('RandomNormalLike', [four]);
  g.output('latent_sample', g.op('Add', [four, g.op('Mul', [noise, g.f32('std', [0.5], [])])]), 'float32', ['batch', 4, 'h', 'w']);
  return g.toBytes();
}

describe('models verify', () => {
  it('says when a VAE encoder samples in its graph, and that latentflow takes the mean', async () => {
    const models = tempDir('lf-verify-');
    const enc = path.join(models, 'vae', 'sampling-vae', 'vae_encoder');
    mkdirSync(enc, { recursive: true });
    writeFileSync(path.join(enc, 'model.onnx'), samplingEncoder());
    const [report] = await verifyModel(models, 'sampling-vae', { session: async (p) => inspectModelFile(p) });
    const c = report.components.find((x) => x.role === 'vae_encoder');
    expect(c?.ok).toBe(true);
    expect(c?.notes.join('\n')).toMatch(/samples noise in the graph \(RandomNormalLike '.+'\); latentflow runs it as zeros, so the output is the distribution's mean/);
  });
});
