import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointLoadError, DEFAULT_VAE_DOWNSCALE, loadVae, vaeConfig } from '../../../nodes/diffusion/checkpoint.js';
import { VaeError, vaeDecode, vaeEncode } from '../../../nodes/diffusion/vae-codec.js';
import { decodeTiled } from '../../../nodes/diffusion/vae-nodes.js';
import { ModelPool } from '../../../runtime/model-pool.js';
import { Tensor } from '../../../runtime/tensor.js';
import { A, GraphBuilder } from '../../../toyworld/onnx/builder.js';
import { tempDir } from '../../fixtures/temp-dir.js';

const pool = new ModelPool();
afterAll(() => pool.close());

/** A linear VAE with factor k: the encoder averages R, G, B over k x k patches into channels 0-2, the decoder repeats each cell over k x k pixels. */
function linearVae(k: number): { encoder: Uint8Array; decoder: Uint8Array } {
  const enc = new GraphBuilder('vae_encoder');
  enc.input('sample', 'float32', ['batch', 3, 'height', 'width']);
  const we = new Float32Array(4 * 3 * k * k);
  for (let c = 0; c < 3; c++) we.fill(1 / (k * k), (c * 3 + c) * k * k, (c * 3 + c + 1) * k * k);
  const z = enc.op('Conv', ['sample', enc.f32('w', we, [4, 3, k, k])], { kernel_shape: A.ints([k, k]), strides: A.ints([k, k]) });
  enc.output('latent_sample', z, 'float32', ['batch', 4, 'h', 'w']);
  const dec = new GraphBuilder('vae_decoder');
  dec.input('latent_sample', 'float32', ['batch', 4, 'h', 'w']);
  const wd = new Float32Array(4 * 3 * k * k);
  for (let c = 0; c < 3; c++) wd.fill(1, (c * 3 + c) * k * k, (c * 3 + c + 1) * k * k);
  const px = dec.op('ConvTranspose', ['latent_sample', dec.f32('w', wd, [4, 3, k, k])], { kernel_shape: A.ints([k, k]), strides: A.ints([k, k]) });
  dec.output('sample', px, 'float32', ['batch', 3, 'height', 'width']);
  return { encoder: enc.toBytes(), decoder: dec.toBytes() };
}

/** A VAE folder (vae_encoder/, vae_decoder/) with a factor-k graph and the given config.json contents. */
function vaeFolder(k: number, encoderConfig: object, decoderConfig: object = encoderConfig): string {
  const dir = tempDir('lf-vae-factor-');
  const { encoder, decoder } = linearVae(k);
  for (const [sub, model, cfg] of [['vae_encoder', encoder, encoderConfig], ['vae_decoder', decoder, decoderConfig]] as const) {
    mkdirSync(path.join(dir, sub));
    writeFileSync(path.join(dir, sub, 'model.onnx'), model);
    writeFileSync(path.join(dir, sub, 'config.json'), JSON.stringify({ _class_name: 'AutoencoderKL', latent_channels: 4, scaling_factor: 0.5, ...cfg }));
  }
  return dir;
}

/** An IMAGE [1, H, W, 3] that is constant over 4 x 4 blocks (so a factor-4 VAE round-trips it exactly). */
function blockImage(H: number, W: number): Tensor {
  const data = new Float32Array(H * W * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      for (let c = 0; c < 3; c++) data[(y * W + x) * 3 + c] = ((Math.floor(y / 4) * 7 + Math.floor(x / 4) * 3 + c * 5) % 16) / 16;
    }
  }
  return new Tensor('float32', data, [1, H, W, 3]);
}

describe("the VAE's downscale factor comes from its config (diffusers AutoencoderKL: 2^(len(block_out_channels) - 1))", () => {
  it('a three-block VAE (as the SD x4 upscaler\'s) has factor 4: encode, decode and tiled decode use it', async () => {
    const vae = loadVae(vaeFolder(4, { block_out_channels: [128, 256, 512] }), 'f4', pool);
    expect(vae.downscale).toBe(4);
    // 30 x 34 pixels are cropped (centred) to 28 x 32, a multiple of 4, then encoded to 7 x 8 cells.
    const latent = await vaeEncode(vae, blockImage(30, 34));
    expect(latent.shape).toEqual([1, 4, 7, 8]);
    const image = await vaeDecode(vae, latent);
    expect(image.shape).toEqual([1, 28, 32, 3]);
    const again = await vaeDecode(vae, await vaeEncode(vae, blockImage(28, 32)));
    const want = blockImage(28, 32).data;
    for (let i = 0; i < want.length; i++) expect(Math.abs(again.data[i] - want[i])).toBeLessThan(1e-6);
    const tiled = await decodeTiled(vae, latent, 64, 16, new AbortController().signal);
    expect(tiled.shape).toEqual([1, 28, 32, 3]);
  });

  it('reads SD\'s four blocks as 8, and assumes 8 when the config has no block_out_channels (the toyworld configs)', () => {
    expect(loadVae(vaeFolder(8, { block_out_channels: [128, 256, 512, 512] }), 'f8', pool).downscale).toBe(8);
    expect(loadVae(vaeFolder(8, {}), 'plain', pool).downscale).toBe(DEFAULT_VAE_DOWNSCALE);
    const dir = vaeFolder(4, {}, { block_out_channels: [64, 64, 64] });
    expect(vaeConfig([path.join(dir, 'vae_decoder'), path.join(dir, 'vae_encoder')]).downscale).toBe(4);
  });

  it('refuses a VAE whose graph scales by another factor than its config says, naming both', async () => {
    const vae = loadVae(vaeFolder(4, { block_out_channels: [128, 256, 512, 512] }), 'liar', pool);
    expect(vae.downscale).toBe(8);
    await expect(vaeEncode(vae, blockImage(32, 32))).rejects.toThrow(VaeError);
    await expect(vaeEncode(vae, blockImage(32, 32))).rejects.toThrow(/encoder turned 32x32 pixels into a 8x8 latent, but its config \(block_out_channels\) gives a factor of 8/);
    await expect(vaeDecode(vae, Tensor.zeros([1, 4, 4, 4]))).rejects.toThrow(/decoder turned a 4x4 latent into 16x16 pixels, but its config \(block_out_channels\) gives a factor of 8/);
  });

  it('refuses malformed or contradictory configs at load', () => {
    expect(() => loadVae(vaeFolder(4, { block_out_channels: [] }), 'empty', pool)).toThrow(CheckpointLoadError);
    expect(() => loadVae(vaeFolder(4, { block_out_channels: 'wide' }), 'text', pool)).toThrow(/block_out_channels must be a non-empty list/);
    expect(() => loadVae(vaeFolder(4, { block_out_channels: [64, 64, 64] }, { block_out_channels: [64, 64, 64, 64] }), 'split', pool)).toThrow(
      /gives a VAE factor of 8 but .*vae_encoder.*config\.json gives 4/,
    );
  });
});
