import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelPool } from '../../../runtime/model-pool.js';
import { SessionHandle, type DiffusionSession } from '../../../runtime/session-handle.js';
import { Tensor } from '../../../runtime/tensor.js';
import { tiledScaleSteps } from '../../../imaging/tiled-scale.js';
import { VAEEncodeTiled, encodeTiled, encodeTilings } from '../../../nodes/diffusion/vae-tiled.js';
import { VAEEncode } from '../../../nodes/diffusion/vae-nodes.js';
import type { VaeModel } from '../../../sockets/index.js';
import { renderShape } from '../../../toyworld/world.js';
import { nodeContext } from '../../fixtures/run-node.js';
import { checkpoint, ensureToyworld } from './helpers.js';

let pool: ModelPool;
beforeAll(async () => {
  await ensureToyworld();
  pool = new ModelPool({ workers: 1 });
});
afterAll(() => pool?.close());

/** A VAE whose encoder answers every tile with its own width in pixels, at 1/2 scale. */
function widthVae(): VaeModel {
  const session: DiffusionSession = {
    inputs: [{ name: 'sample', dtype: 'float32', shape: ['b', 3, 'h', 'w'], shapeKnown: true }],
    outputs: [{ name: 'latent_sample', dtype: 'float32', shape: ['b', 1, 'h2', 'w2'], shapeKnown: true }],
    async run(feeds) {
      const [, , h, w] = feeds.sample!.shape as [number, number, number, number];
      return { latent_sample: new Tensor('float32', new Float32Array((h / 2) * (w / 2)).fill(w), [1, 1, h / 2, w / 2]) };
    },
  };
  return { name: 'width', encoder: new SessionHandle({ session: async () => session }, 'w.onnx'), downscale: 2, latentChannels: 1, scalingFactor: 1 };
}

function picture(h: number, w: number): Tensor<'float32'> {
  const a = renderShape({ colour: 'red', shape: 'circle', cx: 0.4, cy: 0.5, size: 0.35, width: w, height: h });
  return new Tensor('float32', a.data, [1, h, w, 3]);
}

describe('VAEEncodeTiled (ComfyUI VAE.encode_tiled_)', () => {
  it('publishes ComfyUI inputs, temporal ones included', () => {
    expect(Object.keys(VAEEncodeTiled.inputs)).toEqual(['pixels', 'vae', 'tile_size', 'overlap', 'temporal_size', 'temporal_overlap']);
    expect(VAEEncodeTiled.inputs.tile_size!.info).toMatchObject({ default: 512, min: 64, max: 4096, step: 64 });
    expect(VAEEncodeTiled.inputs.overlap!.info).toMatchObject({ default: 64, min: 0, max: 4096, step: 32 });
  });

  it('averages square, wide and tall tilings: (4 + 8 + 2) / 3 for tiles answering their width', async () => {
    expect(encodeTilings(4)).toEqual([[4, 4], [8, 2], [2, 8]]);
    const img = new Tensor('float32', new Float32Array(8 * 8 * 3).fill(0.5), [1, 8, 8, 3]);
    const steps: [number, number][] = [];
    const out = await encodeTiled(widthVae(), img, 4, 0, { onTile: (d, t) => steps.push([d, t]) });
    expect(out.shape).toEqual([1, 1, 4, 4]);
    for (const v of out.data) expect(v).toBeCloseTo(14 / 3, 5);
    const total = tiledScaleSteps(8, 8, 4, 4, 0) + tiledScaleSteps(8, 8, 8, 2, 0) + tiledScaleSteps(8, 8, 2, 8, 0);
    expect(steps.length).toBe(total);
    expect(steps.at(-1)).toEqual([total, total]);
  });

  it('equals VAEEncode on the toyworld VAE (8x8 patch means are local), progress per tile', async () => {
    const vae = checkpoint(pool).vae;
    const img = picture(192, 256);
    const progress: number[] = [];
    const ctx = { ...nodeContext(), progress: (v: number) => void progress.push(v) };
    const tiled = (await VAEEncodeTiled.run(ctx, { pixels: img, vae, tile_size: 64, overlap: 16, temporal_size: 64, temporal_overlap: 8 })).LATENT;
    const plain = (await VAEEncode.run(nodeContext(), { pixels: img, vae })).LATENT;
    const a = (tiled as { samples: Tensor<'float32'> }).samples;
    const b = (plain as { samples: Tensor<'float32'> }).samples;
    expect(a.shape).toEqual([1, 4, 24, 32]);
    let max = 0;
    for (let i = 0; i < a.size; i++) max = Math.max(max, Math.abs(a.data[i]! - b.data[i]!));
    expect(max).toBeLessThan(1e-5);
    expect(progress.length).toBe(tiledScaleSteps(256, 192, 64, 64, 16) + tiledScaleSteps(256, 192, 128, 32, 16) + tiledScaleSteps(256, 192, 32, 128, 16));
  });

  it('refuses an overlap that leaves the half-size tiles nothing to advance by', async () => {
    const img = picture(128, 128);
    await expect(encodeTiled(checkpoint(pool).vae, img, 64, 32)).rejects.toThrow(/overlap of 32 leaves 128x32 tiles nothing to advance by/);
  });
});
