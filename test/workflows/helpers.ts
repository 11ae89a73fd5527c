/** Inputs for the shipped workflows: toyworld pictures written as PNGs into an input folder. */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { renderShape } from '../../toyworld/world.js';

const to8 = (d: Float32Array) => Uint8Array.from(d, (v) => Math.round(v * 255));

/** toyworld-red-circle.png (img2img) and toyworld-inpaint.png (right half transparent = mask). */
export async function writeWorkflowInputs(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const rc = renderShape({ colour: 'red', shape: 'circle', cx: 0.4, cy: 0.45, size: 0.4 });
  await sharp(to8(rc.data), { raw: { width: 256, height: 256, channels: 3 } }).png().toFile(path.join(dir, 'toyworld-red-circle.png'));
  const size = 128;
  const left = renderShape({ colour: 'red', shape: 'circle', cx: 0.25, cy: 0.5, size: 0.35, width: size, height: size });
  const right = renderShape({ colour: 'blue', shape: 'square', cx: 0.75, cy: 0.5, size: 0.35, width: size, height: size });
  const rgba = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = y * size + x;
      const src = x < size / 2 ? left.data : right.data;
      for (let c = 0; c < 3; c++) rgba[i * 4 + c] = Math.round(src[i * 3 + c] * 255);
      rgba[i * 4 + 3] = x < size / 2 ? 255 : 0;
    }
  }
  await sharp(rgba, { raw: { width: size, height: size, channels: 4 } }).png().toFile(path.join(dir, 'toyworld-inpaint.png'));
}
