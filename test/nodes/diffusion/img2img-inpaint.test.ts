import { mkdir, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Services } from '../../../engine/index.js';
import { ModelPool } from '../../../runtime/model-pool.js';
import { Tensor } from '../../../runtime/tensor.js';
import { commonKSampler } from '../../../nodes/diffusion/ksampler.js';
import { encodeText } from '../../../nodes/diffusion/clip-text.js';
import { vaeDecode, vaeEncode } from '../../../nodes/diffusion/vae-codec.js';
import { VAEEncodeForInpaint } from '../../../nodes/diffusion/vae-nodes.js';
import { encodePng } from '../../../imaging/codec.js';
import { COLOURS, PLACEMENTS, renderShape } from '../../../toyworld/world.js';
import { checkpoint, classify, ensureToyworld, meanColour, testContext } from './helpers.js';
import type { Latent } from '../../../sockets/index.js';

let pool: ModelPool;
beforeAll(async () => {
  await ensureToyworld();
  await mkdir('test-artifacts', { recursive: true });
  pool = new ModelPool();
});
afterAll(() => pool.close());

const placement = PLACEMENTS.circle[0];

function redCircle(size: number): Tensor {
  const img = renderShape({ colour: 'red', shape: 'circle', ...placement, width: size, height: size });
  return new Tensor('float32', img.data, [1, size, size, 3]);
}

const insideCircle = (size: number) => (y: number, x: number) =>
  Math.hypot(x + 0.5 - placement.cx * size, y + 0.5 - placement.cy * size) < (placement.size * size) / 2 - 4;

async function sample(latent: Latent, prompt: string, denoise: number, seed = 3n, steps = 12): Promise<Latent> {
  const ck = checkpoint(pool);
  return commonKSampler(testContext(), {
    model: ck.model, seed, steps, cfg: 7, samplerName: 'euler', scheduler: 'karras',
    positive: await encodeText(ck.clip, prompt), negative: await encodeText(ck.clip, ''), latent, denoise,
  });
}

describe('image to image', () => {
  it('turns a red circle blue in the same place at denoise 0.8', async () => {
    const ck = checkpoint(pool);
    const input = redCircle(256);
    const out = await vaeDecode(ck.vae, (await sample({ samples: await vaeEncode(ck.vae, input) }, 'a blue circle', 0.8)).samples);
    const c = await classify(pool, out);
    expect(c.label).toBe('blue circle');
    const [r, g, b] = meanColour(out, insideCircle(256));
    const blue = COLOURS.find((k) => k.name === 'blue')!.rgb.map((v) => v / 255);
    expect(Math.hypot(r - blue[0], g - blue[1], b - blue[2])).toBeLessThan(0.15);
  });

  it('leaves the latent unchanged at denoise 0', async () => {
    const ck = checkpoint(pool);
    const samples = await vaeEncode(ck.vae, redCircle(128));
    const out = await sample({ samples }, 'a blue circle', 0);
    expect(Array.from(out.samples.data)).toEqual(Array.from(samples.data));
    const [r, g, b] = meanColour(await vaeDecode(ck.vae, out.samples), insideCircle(128));
    expect(r).toBeGreaterThan(0.75);
    expect(g + b).toBeLessThan(0.4);
  });
});

describe('inpainting', () => {
  it('changes only the masked (right) half', async () => {
    const ck = checkpoint(pool);
    const size = 128;
    // A red circle on the left, a blue square on the right; the mask covers the right half.
    const left = renderShape({ colour: 'red', shape: 'circle', cx: 0.25, cy: 0.5, size: 0.35, width: size, height: size });
    const right = renderShape({ colour: 'blue', shape: 'square', cx: 0.75, cy: 0.5, size: 0.35, width: size, height: size });
    const px = new Float32Array(size * size * 3);
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) for (let c = 0; c < 3; c++) {
      const i = (y * size + x) * 3 + c;
      px[i] = x < size / 2 ? left.data[i] : right.data[i];
    }
    const image = new Tensor('float32', px, [1, size, size, 3]);
    const mask = new Float32Array(size * size);
    for (let y = 0; y < size; y++) for (let x = size / 2; x < size; x++) mask[y * size + x] = 1;
    const ctx = { ...testContext(), nodeId: '1', classType: 'VAEEncodeForInpaint', promptId: 'p', services: undefined!, files: undefined!, job: new Services() };
    const enc = await VAEEncodeForInpaint.run(ctx, { pixels: image, vae: ck.vae, mask: new Tensor('float32', mask, [1, size, size]), grow_mask_by: 6 });
    const latent = enc.LATENT;
    if (!latent || typeof latent !== 'object' || !('samples' in latent)) throw new TypeError('no LATENT');
    const out = await vaeDecode(ck.vae, (await sample(latent as Latent, 'a green triangle', 1, 5n)).samples);
    // NOTE: 8 px from the seam the 6-px grown mask and the decoder's 8x8 kernels no longer reach.
    const keep = (y: number, x: number) => x < size / 2 - 16;
    const before = meanColour(image, keep);
    const after = meanColour(out, keep);
    for (let c = 0; c < 3; c++) expect(Math.abs(after[c] - before[c])).toBeLessThan(0.02);
    // Pixel by pixel against the VAE round trip of the input (the toy VAE blurs edges by itself).
    const roundTrip = await vaeDecode(ck.vae, await vaeEncode(ck.vae, image));
    let maxDiff = 0;
    for (let y = 0; y < size; y++) for (let x = 0; x < size / 2 - 16; x++) for (let c = 0; c < 3; c++) {
      const i = (y * size + x) * 3 + c;
      maxDiff = Math.max(maxDiff, Math.abs(out.data[i] - roundTrip.data[i]));
    }
    await writeFile('test-artifacts/diffusion-inpaint.png', await encodePng(out, 0));
    expect(maxDiff).toBeLessThan(0.1);
    // The blue square's area no longer looks like the blue square.
    const square = (y: number, x: number) => Math.abs(x + 0.5 - 0.75 * size) < 0.15 * size && Math.abs(y + 0.5 - 0.5 * size) < 0.15 * size;
    const was = meanColour(image, square);
    const now = meanColour(out, square);
    expect(Math.hypot(now[0] - was[0], now[1] - was[1], now[2] - was[2])).toBeGreaterThan(0.3);
  });
});

describe('seeds', () => {
  it('different seeds differ, the same seed gives identical bytes', async () => {
    const ck = checkpoint(pool);
    const run = async (seed: bigint) => encodePng(await vaeDecode(ck.vae, (await sample({ samples: Tensor.zeros([1, 4, 8, 8]) }, 'a red circle', 1, seed, 6)).samples), 0);
    const a = await run(11n);
    const b = await run(11n);
    const c = await run(12n);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(Buffer.from(a).equals(Buffer.from(c))).toBe(false);
  });
});
