/**
 * Model upscaling on toyworld-x4: a 256x256 image to 1024x1024 through ImageUpscaleWithModel's path
 * (tiles, blending, clamping), as one 512 tile and as nine 128 tiles (overlap 32). Prints output
 * megapixels per second (median of runs after a warm-up) and the process's peak RSS above its level
 * before the runs, relative to one tile's working set (its float32 input and output).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHost } from '../host/host.js';
import { MODEL_POOL } from '../runtime/services.js';
import { Tensor } from '../runtime/tensor.js';
import { loadUpscaleModel, upscaleImage } from '../nodes/upscale/index.js';
import { buildUpscaler } from '../toyworld/models/upscaler.js';
import { renderShape } from '../toyworld/world.js';

const REPS = 5;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;

export default async function (): Promise<void> {
  const base = mkdtempSync(path.join(tmpdir(), 'lf-bench-upscale-'));
  const dir = path.join(base, 'models', 'upscale_models');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'toyworld-x4.onnx'), buildUpscaler({ scale: 4, io: 'float32' }));
  const host = await createHost({ baseDir: base });
  try {
    const model = loadUpscaleModel(path.join(dir, 'toyworld-x4.onnx'), 'toyworld-x4.onnx', host.services.get(MODEL_POOL));
    const pic = renderShape({ colour: 'blue', shape: 'ring', cx: 0.5, cy: 0.5, size: 0.4, width: 256, height: 256 });
    const img = new Tensor('float32', pic.data, [1, 256, 256, 3]);
    const outMp = (1024 * 1024) / 1e6;
    for (const tile of [512, 128]) {
      await upscaleImage(model, img, { tile });
      const times: number[] = [];
      let tiles = 0;
      let peak = 0;
      global.gc?.();
      const before = process.memoryUsage().rss;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 2);
      for (let r = 0; r < REPS; r++) {
        const t0 = performance.now();
        await upscaleImage(model, img, { tile, onProgress: (_d, total) => (tiles = total) });
        times.push(performance.now() - t0);
        peak = Math.max(peak, process.memoryUsage().rss);
      }
      clearInterval(sampler);
      const secs = median(times) / 1000;
      const t = Math.min(tile, 256);
      const tileSet = (t * t * 3 + t * 4 * t * 4 * 3) * 4;
      const grown = Math.max(0, peak - before);
      console.log(
        `x4 256x256 -> 1024x1024, ${tiles} tile(s) of ${tile}: ${(outMp / secs).toFixed(2)} MP/s (${(secs * 1000).toFixed(0)} ms median of ${REPS}); ` +
          `peak RSS +${mb(grown)} over ${mb(before)} = ${(grown / tileSet).toFixed(1)}x one tile's in+out (${mb(tileSet)}), result ${mb(1024 * 1024 * 3 * 4)}`,
      );
    }
  } finally {
    await host.close();
    rmSync(base, { recursive: true, force: true });
  }
}
