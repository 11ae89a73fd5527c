import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHost, type Host } from '../../../host/host.js';
import type { ApiWorkflow, EngineEvent } from '../../../engine/index.js';
import { MODEL_POOL } from '../../../runtime/services.js';
import { InferenceError } from '../../../runtime/errors.js';
import { SessionHandle, type DiffusionSession } from '../../../runtime/session-handle.js';
import { Tensor } from '../../../runtime/tensor.js';
import { tileSpans } from '../../../imaging/tiled-scale.js';
import { resizePlanes } from '../../../imaging/resample.js';
import {
  ImageUpscaleWithModel, UpscaleModelLoader, UpscaleModelError, UpscaleSizeError, isOutOfMemory, loadUpscaleModel, upscaleImage,
  type UpscaleModel,
} from '../../../nodes/upscale/index.js';
import { readSignature } from '../../../nodes/upscale/signature.js';
import { checkResultSize, padTile } from '../../../nodes/upscale/upscale.js';
import { tempDir } from '../../fixtures/temp-dir.js';
import { nodeContext, runOutput } from '../../fixtures/run-node.js';
import { image, MODELS, maxAbsDiff, toyworldUpscale, writeUpscaleModels } from './helpers.js';

let host: Host;
let dir: string;
beforeAll(async () => {
  const base = tempDir('lf-upscale-');
  dir = writeUpscaleModels(path.join(base, 'models'));
  host = await createHost({ baseDir: base });
});
afterAll(() => host?.close());

const load = (name: string): UpscaleModel => loadUpscaleModel(path.join(dir, name), name, host.services.get(MODEL_POOL));
const ctx = () => nodeContext({ services: host.services });

/** A test picture: a few flat colours with edges in both directions and a soft gradient corner. */
function picture(h: number, w: number, b = 1): Tensor<'float32'> {
  const red = [0.86, 0.1, 0.12];
  const bg = [0.92, 0.92, 0.9];
  const blue = [0.1, 0.2, 0.85];
  return image(b, h, w, 3, (n, y, x, c) => {
    const inCircle = (x - w * 0.4) ** 2 + (y - h * 0.5) ** 2 < (Math.min(h, w) * 0.3) ** 2;
    const inBar = y > h * 0.7 && x > w * 0.6;
    if (inCircle) return red[c]! - 0.05 * n;
    if (inBar) return blue[c]!;
    if (x < 4 && y < 4) return (x + y) / 8;
    return bg[c]!;
  });
}

describe('UpscaleModelLoader', () => {
  it('lists the .onnx files of models/upscale_models, subfolders included, as ComfyUI names them', () => {
    const info = host.engine.objectInfo();
    const choices = info.UpscaleModelLoader!.input.required.model_name![0];
    expect(choices).toEqual(expect.arrayContaining([MODELS.x4, MODELS.fixed, MODELS.fp16]));
    expect(info.UpscaleModelLoader).toMatchObject({ output: ['UPSCALE_MODEL'], display_name: 'Load Upscale Model', category: 'loaders' });
    expect(info.ImageUpscaleWithModel).toMatchObject({
      input_order: { required: ['upscale_model', 'image'] }, output: ['IMAGE'], category: 'image/upscaling', display_name: 'Upscale Image (using Model)',
    });
  });

  it('refuses models that are not image-to-image, naming what they declare', () => {
    const run = (name: string) => UpscaleModelLoader.run(ctx(), { model_name: name });
    expect(() => run(MODELS.badRank)).toThrow(/not an image-to-image model: output has rank 2, not 4.*output float32\[batch,3\]/);
    expect(() => run(MODELS.grey)).toThrow(/input has 1 channel\(s\), not 3/);
    expect(() => run(MODELS.twoInputs)).toThrow(/it takes 2 inputs/);
    expect(() => run(MODELS.badRank)).toThrow(UpscaleModelError);
  });

  it('reads the scale from static sizes, and a preview hint from symbolic output dims', () => {
    const meta = (name: string, shape: (number | string)[]) => ({ name, dtype: 'float32' as const, shape, shapeKnown: true });
    const fixed = readSignature('f', [meta('input', [1, 3, 64, 64])], [meta('output', [1, 3, 256, 256])]);
    expect(fixed).toMatchObject({ staticScale: 4, fixedH: 64, fixedW: 64 });
    const hinted = readSignature('h', [meta('input', ['b', 3, 'height', 'width'])], [meta('output', ['b', 3, '2*height', '2*width'])]);
    expect(hinted).toMatchObject({ hintScale: 2, staticScale: undefined });
    expect(() => readSignature('u', [meta('input', [1, 3, 64, 32])], [meta('output', [1, 3, 256, 64])])).toThrow(/unevenly/);
    expect(() => readSignature('b', [meta('input', [4, 3, 64, 64])], [meta('output', [4, 3, 256, 256])])).toThrow(/fixed batch of 4/);
  });
});

describe('ImageUpscaleWithModel on the toyworld upscaler', () => {
  it('probes the scale once, on a small input, and reproduces the model rule', async () => {
    const model = load(MODELS.x4);
    expect(await model.geometry()).toEqual({ scale: 4, multipleOf: 1, fixedH: undefined, fixedW: undefined, source: 'probe' });
    const img = picture(24, 32);
    const out = await runOutput(ImageUpscaleWithModel, { upscale_model: model, image: img }, 'IMAGE', ctx());
    expect(out.shape).toEqual([1, 96, 128, 3]);
    expect(maxAbsDiff(out, toyworldUpscale(img, 4))).toBeLessThan(1e-5);
    // Flat colours stay exactly what they were.
    expect(Array.from(out.data.subarray((48 * 128 + 51) * 3, (48 * 128 + 51) * 3 + 3))).toEqual(Array.from(img.data.subarray((12 * 32 + 12) * 3, (12 * 32 + 12) * 3 + 3)));
  });

  it('x2, fp16 and even-only exports give the same pictures', async () => {
    const img = picture(21, 33);
    const x2 = await upscaleImage(load(MODELS.x2), img);
    expect(x2.shape).toEqual([1, 42, 66, 3]);
    expect(maxAbsDiff(x2, toyworldUpscale(img, 2))).toBeLessThan(1e-5);
    const x4 = await upscaleImage(load(MODELS.x4), img);
    const fp16 = await upscaleImage(load(MODELS.fp16), img);
    expect(maxAbsDiff(fp16, x4)).toBeLessThan(2e-3);
    // Odd sizes: the probe finds the model needs even ones; tiles are padded (reflect) and cropped.
    const even = load(MODELS.even);
    expect(await even.geometry()).toMatchObject({ scale: 4, multipleOf: 2 });
    const e = await upscaleImage(even, img);
    expect(e.shape).toEqual([1, 84, 132, 3]);
    // Away from the padded bottom row and right column the pictures agree.
    let max = 0;
    for (let y = 0; y < 80; y++) for (let x = 0; x < 128; x++) for (let c = 0; c < 3; c++) max = Math.max(max, Math.abs(e.data[(y * 132 + x) * 3 + c]! - x4.data[(y * 132 + x) * 3 + c]!));
    expect(max).toBeLessThan(1e-5);
  });

  it('runs SwinIR-style fixed-size exports in tiles of their size, padding small images', async () => {
    const model = load(MODELS.fixed);
    expect(await model.geometry()).toMatchObject({ scale: 4, fixedH: 64, fixedW: 64, source: 'graph' });
    const steps: number[] = [];
    const img = picture(100, 150);
    const out = await upscaleImage(model, img, { onProgress: (d, t) => steps.push(t) });
    // 64 tiles with a 16 overlap, the last moved back to keep 64: 2 rows x 3 columns.
    expect(tileSpans(100, 64, 16, true).length * tileSpans(150, 64, 16, true).length).toBe(6);
    expect(steps).toEqual([6, 6, 6, 6, 6, 6]);
    expect(out.shape).toEqual([1, 400, 600, 3]);
    const whole = toyworldUpscale(img, 4);
    const diff = maxAbsDiff(out, whole);
    expect(diff).toBeLessThan(0.05);
    const small = await upscaleImage(model, picture(40, 30));
    expect(small.shape).toEqual([1, 160, 120, 3]);
  });

  it('tiles an image larger than 512 with per-tile progress, matching one pass of the same model', async () => {
    const img = picture(520, 600);
    const steps: [number, number][] = [];
    const model = load(MODELS.x4);
    const tiled = await upscaleImage(model, img, { onProgress: (d, t) => steps.push([d, t]) });
    expect(steps).toEqual([[1, 4], [2, 4], [3, 4], [4, 4]]);
    const single = await upscaleImage(model, img, { tile: 1024 });
    expect(tiled.shape).toEqual([1, 2080, 2400, 3]);
    // The toyworld rule reads a 2x2 window, so tiles only differ within a few pixels of their cut edges,
    // where the feathered masks weight them lightly.
    const d = maxAbsDiff(tiled, single);
    console.log(`toyworld-x4 seams: max |tiled - single pass| = ${d.toExponential(2)}`);
    expect(d).toBeLessThan(0.02);
  });

  it('keeps alpha beside the model, upscaled bilinearly', async () => {
    const rgba = image(1, 8, 10, 4, (_n, y, x, c) => (c === 3 ? (x < 5 ? 1 : 0.25) : 0.5 + 0.01 * y));
    const out = await upscaleImage(load(MODELS.x4), rgba);
    expect(out.shape).toEqual([1, 32, 40, 4]);
    const alpha = new Float32Array(80);
    for (let p = 0; p < 80; p++) alpha[p] = rgba.data[p * 4 + 3]!;
    const want = resizePlanes(new Tensor('float32', alpha, [1, 1, 8, 10]), 32, 40, 'bilinear').data;
    for (let p = 0; p < 32 * 40; p++) expect(out.data[p * 4 + 3]).toBeCloseTo(want[p]!, 6);
  });

  it('refuses a 20000x20000 result before allocating it, with the sizes', async () => {
    expect(() => checkResultSize(1, 5000, 5000, 3, 4, 'toyworld-x4.onnx')).toThrow(/a 5000x5000 x4 with toyworld-x4.onnx would give 20000x20000, above the limit of 16384/);
    const wide = image(1, 10, 4200, 3, () => 0.5);
    await expect(upscaleImage(load(MODELS.x4), wide)).rejects.toThrow(UpscaleSizeError);
    await expect(upscaleImage(load(MODELS.x4), wide)).rejects.toThrow(/4200x10 x4 .* would give 16800x40/);
  });

  it('refuses a model whose output turns out not to be an RGB image when probed', async () => {
    const model = load(MODELS.squeeze);
    await expect(upscaleImage(model, picture(8, 8))).rejects.toThrow(/not an image-to-image model: a \[1,3,17,17\] image came back as \[1,1,17,17\]/);
  });

  it('reports tile progress and infers the output shape through the engine', async () => {
    const wf: ApiWorkflow = {
      '1': { class_type: 'UpscaleModelLoader', inputs: { model_name: MODELS.x4 } },
      '2': { class_type: 'EmptyImage', inputs: { width: 600, height: 520, batch_size: 1, color: 0x336699 } },
      '3': { class_type: 'ImageUpscaleWithModel', inputs: { upscale_model: ['1', 0], image: ['2', 0] } },
      '4': { class_type: 'PreviewImage', inputs: { images: ['3', 0] } },
    };
    const shapes = await host.engine.inferShapes(wf);
    expect(shapes['1']).toEqual([[4]]);
    expect(shapes['3']).toEqual([[1, 2080, 2400, 3]]);
    const events: EngineEvent[] = [];
    const res = await host.engine.run(wf, { onEvent: (e) => events.push(e) });
    expect(res.error?.message).toBeUndefined();
    const progress = events.filter((e) => e.type === 'progress').map((e) => e.data);
    expect(progress.map((p) => [p.node, p.value, p.max])).toEqual([['3', 1, 4], ['3', 2, 4], ['3', 3, 4], ['3', 4, 4]]);
  });
});

describe('out-of-memory fallback', () => {
  /** A stand-in model whose session fails to allocate above `limit` pixels a side, else upscales by nearest x2. */
  function stub(limit: number): UpscaleModel {
    const session: DiffusionSession = {
      inputs: [{ name: 'input', dtype: 'float32', shape: ['b', 3, 'h', 'w'], shapeKnown: true }],
      outputs: [{ name: 'output', dtype: 'float32', shape: ['b', 3, 'h2', 'w2'], shapeKnown: true }],
      async run(feeds) {
        const t = feeds.input!;
        const [, c, h, w] = t.shape as [number, number, number, number];
        if (h > limit || w > limit) throw new InferenceError(`Failed to allocate memory for requested buffer of size ${c * h * w * 64}`);
        const d = new Float32Array(c * h * w * 4);
        for (let k = 0; k < c; k++) for (let y = 0; y < 2 * h; y++) for (let x = 0; x < 2 * w; x++) d[(k * 2 * h + y) * 2 * w + x] = Number(t.data[(k * h + (y >> 1)) * w + (x >> 1)]);
        return { output: new Tensor('float32', d, [1, c, 2 * h, 2 * w]) };
      },
    };
    const handle = new SessionHandle({ session: async () => session }, 'stub.onnx');
    return {
      name: 'stub', session: handle,
      signature: { file: 'stub', input: 'input', output: 'output', inputType: 'float32', outputType: 'float32' },
      geometry: async () => ({ scale: 2, multipleOf: 1, source: 'probe' }),
    };
  }

  it('halves the tile (512 -> 256 -> 128) and says so, then gives up below 128', async () => {
    const logs: string[] = [];
    const img = picture(600, 600);
    const out = await upscaleImage(stub(300), img, { log: (m) => logs.push(m) });
    expect(out.shape).toEqual([1, 1200, 1200, 3]);
    expect(logs).toEqual([expect.stringMatching(/^out of memory with 512px tiles \(Failed to allocate memory.*\); retrying with 256px tiles$/)]);
    const logs2: string[] = [];
    await expect(upscaleImage(stub(100), img, { log: (m) => logs2.push(m) })).rejects.toThrow(/Failed to allocate/);
    expect(logs2.map((m) => m.replace(/ \(.*\)/, ''))).toEqual(['out of memory with 512px tiles; retrying with 256px tiles', 'out of memory with 256px tiles; retrying with 128px tiles']);
    expect(isOutOfMemory(new InferenceError('shape mismatch'))).toBe(false);
    expect(isOutOfMemory(new RangeError('Array buffer allocation failed'))).toBe(true);
  });

  it('pads tiles as spandrel does: reflect up to size - 1, then replicate', () => {
    const t = new Tensor('float32', Float32Array.from([1, 2, 3]), [1, 1, 1, 3]);
    expect(Array.from(padTile(t, 1, 7).data)).toEqual([1, 2, 3, 2, 1, 1, 1]);
  });
});
