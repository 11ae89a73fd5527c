/** Shared setup of the CLIP node tests: the toyworld pack, a host over a temp base dir, rendered images. */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { createHost, type Host } from '../../../host/host.js';
import { tempDir } from '../../fixtures/temp-dir.js';
import { repoToyworld } from '../../fixtures/toyworld.js';
import { renderShape, type RgbImage, type ShapeName } from '../../../toyworld/world.js';
import { Tensor } from '../../../runtime/tensor.js';

export { REPO, REPO_MODELS as MODELS } from '../../fixtures/toyworld.js';

/** A host whose models/ is the repo's generated toyworld pack and whose other folders are fresh. */
export async function toyHost(): Promise<Host> {
  const models = await repoToyworld();
  const base = tempDir('lf-clip-');
  mkdirSync(path.join(base, 'input'), { recursive: true });
  return createHost({ baseDir: base, modelsDir: models });
}

/** IMAGE [B,H,W,3] from rendered images of one size. */
export function batch(images: readonly RgbImage[]): Tensor {
  const { width, height } = images[0]!;
  const out = new Float32Array(images.length * width * height * 3);
  images.forEach((im, i) => out.set(im.data, i * width * height * 3));
  return new Tensor('float32', out, [images.length, height, width, 3]);
}

/** Writes an RgbImage as an 8-bit PNG. */
export async function writePng(file: string, im: RgbImage): Promise<void> {
  const u8 = Uint8Array.from(im.data, (v) => Math.round(v * 255));
  await sharp(u8, { raw: { width: im.width, height: im.height, channels: 3 } }).png().toFile(file);
}

/** A deterministic PRNG for test image layouts. */
export { mulberry32 as rng } from '../../../toyworld/prng.js';

/** A shape at a random spot and size (20-50% of the frame), away from the edges. */
export function randomShape(colour: string, shape: ShapeName, rand: () => number, width = 128, height = 128): RgbImage {
  const size = 0.25 + 0.25 * rand();
  const m = size / 2 + 0.05;
  return renderShape({ colour, shape, cx: m + (1 - 2 * m) * rand(), cy: m + (1 - 2 * m) * rand(), size, width, height });
}
