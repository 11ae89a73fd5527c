/**
 * workflows/upscale.json on toyworld: txt2img 128 -> toyworld-x4 (512) -> area downscale to 256 ->
 * VAEEncodeTiled -> KSampler at denoise 0.3 -> VAEDecodeTiled -> SaveImage. The pack is generated into a
 * temp folder, so this test does not depend on the version of the repo's models/.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHost, type Host } from '../../host/host.js';
import { parseJson, type ApiWorkflow, type EngineEvent } from '../../engine/index.js';
import { decodeImage } from '../../imaging/codec.js';
import { MODEL_POOL } from '../../runtime/services.js';
import type { Tensor } from '../../runtime/tensor.js';
import { tempToyworld } from '../fixtures/toyworld.js';
import { classify, meanColour } from '../nodes/diffusion/helpers.js';

let host: Host;
let base: string;

beforeAll(async () => {
  const models = await tempToyworld();
  base = await mkdtemp(path.join(tmpdir(), 'lf-upscale-wf-'));
  host = await createHost({ baseDir: base, modelsDir: models });
});
afterAll(async () => {
  await host.close();
  await rm(base, { recursive: true, force: true });
});

async function load(): Promise<ApiWorkflow> {
  return parseJson(await readFile(path.join('workflows', 'upscale.json'), 'utf8')) as unknown as ApiWorkflow;
}

describe('workflows/upscale.json', () => {
  it('draws the prompt at 256x256 through the upscaler and a light tiled img2img pass', async () => {
    const wf = await load();
    const shapes = await host.engine.inferShapes(wf);
    expect(shapes['21']).toEqual([[1, 512, 512, 3]]);
    expect(shapes['25']).toEqual([[1, 256, 256, 3]]);
    const events: EngineEvent[] = [];
    const res = await host.engine.run(wf, { onEvent: (e) => events.push(e) });
    expect(res.error?.message).toBeUndefined();
    expect(res.status).toBe('success');
    const images = Object.values(res.outputs).flatMap((ui) => (ui.images ?? []) as { filename: string; subfolder: string }[]);
    expect(images).toHaveLength(1);
    const file = path.join(base, 'output', images[0]!.subfolder, images[0]!.filename);
    const img: Tensor = (await decodeImage(await readFile(file))).image;
    expect(img.shape).toEqual([1, 256, 256, 3]);
    const cls = await classify(host.services.get(MODEL_POOL), img);
    expect(cls.label).toBe('green triangle');
    // Not black, not noise: a light background around a green shape.
    const bg = meanColour(img, (y, x) => y < 8 && x < 8);
    expect(Math.min(...bg)).toBeGreaterThan(0.8);
    const nodesWithProgress = new Set(events.filter((e) => e.type === 'progress').map((e) => e.data.node));
    for (const id of ['3', '21', '23', '24']) expect(nodesWithProgress.has(id), `progress from node ${id}`).toBe(true);
  });
});
