/** Example input pictures for the shipped workflows (img2img, inpaint, classify), drawn from the toyworld. */
import { access, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { loadSharp } from '../imaging/codec.js';
import { renderShape } from './world.js';

const to8 = (d: Float32Array) => Uint8Array.from(d, (v) => Math.round(v * 255));

async function exists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}

/** The files `workflows/*.json` load, by name. */
export const EXAMPLE_INPUTS = ['toyworld-red-circle.png', 'toyworld-inpaint.png', 'shape.png', 'toyworld-silhouette.png'] as const;

/**
 * Writes the example inputs into `dir`, leaving files that already exist alone: toyworld-red-circle.png
 * (img2img), toyworld-inpaint.png (right half transparent = the inpaint mask), shape.png (classify).
 */
export async function writeExampleInputs(dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const sharp = await loadSharp();
  const written: string[] = [];
  const target = (name: string) => path.join(dir, name);

  if (!(await exists(target('toyworld-red-circle.png')))) {
    const rc = renderShape({ colour: 'red', shape: 'circle', cx: 0.4, cy: 0.45, size: 0.4 });
    await sharp(to8(rc.data), { raw: { width: 256, height: 256, channels: 3 } }).png().toFile(target('toyworld-red-circle.png'));
    written.push('toyworld-red-circle.png');
  }
  if (!(await exists(target('toyworld-inpaint.png')))) {
    const size = 128;
    const left = renderShape({ colour: 'red', shape: 'circle', cx: 0.25, cy: 0.5, size: 0.35, width: size, height: size });
    const right = renderShape({ colour: 'blue', shape: 'square', cx: 0.75, cy: 0.5, size: 0.35, width: size, height: size });
    const rgba = new Uint8Array(size * size * 4);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const i = y * size + x;
        const src = x < size / 2 ? left.data : right.data;
        for (let c = 0; c < 3; c++) rgba[i * 4 + c] = Math.round(src[i * 3 + c]! * 255);
        rgba[i * 4 + 3] = x < size / 2 ? 255 : 0;
      }
    }
    await sharp(rgba, { raw: { width: size, height: size, channels: 4 } }).png().toFile(target('toyworld-inpaint.png'));
    written.push('toyworld-inpaint.png');
  }
  if (!(await exists(target('shape.png')))) {
    const sq = renderShape({ colour: 'blue', shape: 'square', cx: 0.6, cy: 0.4, size: 0.35, width: 200, height: 150 });
    await sharp(to8(sq.data), { raw: { width: 200, height: 150, channels: 3 } }).png().toFile(target('shape.png'));
    written.push('shape.png');
  }
  if (!(await exists(target('toyworld-silhouette.png')))) {
    // A ControlNet hint: a white triangle on black, at a place and size no prototype has.
    const tri = renderShape({ colour: [255, 255, 255], shape: 'triangle', cx: 0.36, cy: 0.6, size: 0.5, background: [0, 0, 0] });
    await sharp(to8(tri.data), { raw: { width: 256, height: 256, channels: 3 } }).png().toFile(target('toyworld-silhouette.png'));
    written.push('toyworld-silhouette.png');
  }
  return written;
}
