/**
 * The realarch ESRGAN case (../shared/data/realarch, tiny-esrgan-x4: BasicSR RRDBNet, random weights):
 * the engine's PNG against ComfyUI's reference, and tiled against single-pass runs of the same model.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { createHost, type Host } from '../../../host/host.js';
import { parseJson, type ApiWorkflow } from '../../../engine/index.js';
import { decodeImage } from '../../../imaging/codec.js';
import { MODEL_POOL } from '../../../runtime/services.js';
import { Tensor } from '../../../runtime/tensor.js';
import { loadUpscaleModel, upscaleImage } from '../../../nodes/upscale/index.js';
import { REALARCH, describeWith, itWith } from '../../fixtures/shared-data.js';
import { tempDir } from '../../fixtures/temp-dir.js';
import { maxAbsDiff } from './helpers.js';

interface Case { name: string; workflow: string; reference_png: string; png_tolerance_levels: number }

describeWith(REALARCH, 'realarch tiny-esrgan-x4 (RRDBNet)', () => {
  let host: Host;
  let base: string;
  beforeAll(async () => {
    base = tempDir('lf-realarch-up-');
    host = await createHost({ baseDir: base, modelsDir: REALARCH.file('models'), inputDir: REALARCH.file('input') });
  });
  afterAll(() => host?.close());

  const model = () => loadUpscaleModel(REALARCH.file('models/upscale_models/tiny-esrgan-x4.onnx'), 'tiny-esrgan-x4.onnx', host.services.get(MODEL_POOL));

  itWith(REALARCH, 'upscale_esrgan: the saved PNG is within the stated tolerance of ComfyUI\'s reference', async () => {
    const cases = (JSON.parse(await readFile(REALARCH.file('cases.json'), 'utf8')) as { cases: Case[] }).cases;
    const c = cases.find((k) => k.name === 'upscale_esrgan')!;
    const wf = parseJson(await readFile(REALARCH.file(c.workflow), 'utf8')) as unknown as ApiWorkflow;
    const res = await host.engine.run(wf);
    expect(res.error?.message).toBeUndefined();
    const saved = Object.values(res.outputs).flatMap((ui) => (ui.images ?? []) as { filename: string; subfolder: string }[]);
    expect(saved).toHaveLength(1);
    const ours = (await decodeImage(await readFile(path.join(base, 'output', saved[0]!.subfolder, saved[0]!.filename)))).image;
    const ref = (await decodeImage(await readFile(REALARCH.file(c.reference_png)))).image;
    expect(ours.shape).toEqual([1, 192, 256, 3]);
    expect(ref.shape).toEqual(ours.shape);
    let worst = 0;
    let off = 0;
    for (let i = 0; i < ref.size; i++) {
      const d = Math.round(Math.abs(ours.data[i]! - ref.data[i]!) * 255);
      worst = Math.max(worst, d);
      if (d > 0) off++;
    }
    console.log(`upscale_esrgan: max ${worst} level(s) from the reference (tolerance ${c.png_tolerance_levels}), ${off} of ${ref.size} values differ`);
    expect(worst).toBeLessThanOrEqual(c.png_tolerance_levels);
    expect(await model().geometry()).toMatchObject({ scale: 4, multipleOf: 1, source: 'probe' });
  });

  itWith(REALARCH, 'an image larger than one tile: tiled seams against a single pass of the same model', async () => {
    // A smooth picture with detail, 200x150, tiled at 128 (overlap 32: 2 x 2 tiles) and at the node's
    // 512 (one tile, the single pass).
    const h = 150;
    const w = 200;
    const d = new Float32Array(h * w * 3);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (let c = 0; c < 3; c++) d[(y * w + x) * 3 + c] = 0.5 + 0.4 * Math.sin(x * 0.11 + c) * Math.cos(y * 0.07 - c) * ((x >> 4) % 2 ? 1 : 0.6);
      }
    }
    const img = new Tensor('float32', d, [1, h, w, 3]);
    const m = model();
    const steps: number[] = [];
    const tiled = await upscaleImage(m, img, { tile: 128, onProgress: (_d, t) => steps.push(t) });
    const single = await upscaleImage(m, img);
    expect(steps[0]).toBe(4);
    expect(tiled.shape).toEqual([1, 600, 800, 3]);
    const diff = maxAbsDiff(tiled, single);
    let sum = 0;
    for (let i = 0; i < tiled.size; i++) sum += Math.abs(tiled.data[i]! - single.data[i]!);
    console.log(`tiny-esrgan-x4 seams (tile 128, overlap 32): max |tiled - single| = ${diff.toFixed(5)} (${(diff * 255).toFixed(2)} levels), mean ${(sum / tiled.size).toExponential(2)}`);
    // NOTE: tiled_scale's blending, not a defect: each tile's RRDBNet sees zero padding at its cut
    // edges, and the feathered masks only weight those pixels down (ComfyUI gives the same seams).
    expect(diff * 255).toBeLessThan(6);
    expect(sum / tiled.size).toBeLessThan(1e-3);
  }, 120_000);

  itWith(REALARCH, 'the node\'s own tiling (512, overlap 32) on a 600x520 image against one pass', async () => {
    const h = 520;
    const w = 600;
    const d = new Float32Array(h * w * 3);
    for (let p = 0; p < h * w; p++) for (let c = 0; c < 3; c++) d[p * 3 + c] = 0.5 + 0.45 * Math.sin(((p % w) * 0.05 + Math.floor(p / w) * 0.031) * (c + 1));
    const img = new Tensor('float32', d, [1, h, w, 3]);
    const m = model();
    const steps: number[] = [];
    const tiled = await upscaleImage(m, img, { onProgress: (_d, t) => steps.push(t) });
    const single = await upscaleImage(m, img, { tile: 1024 });
    expect(steps).toEqual([4, 4, 4, 4]);
    const diff = maxAbsDiff(tiled, single);
    console.log(`tiny-esrgan-x4 seams (tile 512, overlap 32, 600x520): max |tiled - single| = ${diff.toFixed(5)} (${(diff * 255).toFixed(2)} levels)`);
    // NOTE: RRDBNet reads about 17 input pixels around each output pixel, half the 32-pixel ramp, so
    // pixels near a cut edge keep up to about half their weight; measured 10.8 levels at most here.
    expect(diff * 255).toBeLessThan(16);
  }, 180_000);
});
