import { cpSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHost, type Host } from '../../../host/host.js';
import { MODEL_POOL } from '../../../runtime/services.js';
import { CheckpointLoadError, loadCheckpoint } from '../../../nodes/diffusion/checkpoint.js';
import { encodeText, encodeSdxlText } from '../../../nodes/diffusion/clip-text.js';
import { tempDir } from '../../fixtures/temp-dir.js';
import { ensureToyworld, MODELS_DIR } from './helpers.js';

let host: Host;
const XL = path.join(MODELS_DIR, 'checkpoints', 'toyworld-xl');

beforeAll(async () => {
  await ensureToyworld();
  host = await createHost({ baseDir: tempDir('lf-sdxl-text-'), modelsDir: MODELS_DIR });
});
afterAll(() => host?.close());

describe('SDXL text nodes', () => {
  it("publishes ComfyUI's inputs, order and defaults", () => {
    const info = host.engine.objectInfo();
    expect(info.CLIPTextEncodeSDXL).toMatchObject({ category: 'advanced/conditioning', output: ['CONDITIONING'] });
    expect(info.CLIPTextEncodeSDXL!.input_order.required).toEqual(['clip', 'width', 'height', 'crop_w', 'crop_h', 'target_width', 'target_height', 'text_g', 'text_l']);
    expect(info.CLIPTextEncodeSDXL!.input.required.width![1]).toMatchObject({ default: 1024, min: 0, max: 16384 });
    expect(info.CLIPTextEncodeSDXL!.input.required.crop_w![1]).toMatchObject({ default: 0, min: 0, max: 16384 });
    expect(info.CLIPTextEncodeSDXLRefiner!.input_order.required).toEqual(['ascore', 'width', 'height', 'text', 'clip']);
    expect(info.CLIPTextEncodeSDXLRefiner!.input.required.ascore![1]).toMatchObject({ default: 6, min: 0, max: 1000, step: 0.01 });
  });

  it('encodes [clip_l, clip_g] (2048 wide) with clip_g pooled; the refiner clip_g alone (1280)', async () => {
    const pool = host.services.get(MODEL_POOL);
    const base = loadCheckpoint(XL, 'toyworld-xl', pool).clip;
    expect([base.sdxl, base.layer]).toEqual(['base', -2]);
    const [c] = await encodeText(base, 'a red circle');
    expect(c!.embeds.shape).toEqual([1, 77, 2048]);
    expect(c!.pooled!.shape).toEqual([1, 1280]);
    // text_g longer than one window: clip_l is padded with an empty-prompt window.
    const [long] = await encodeSdxlText(base, `a red circle ${'with '.repeat(80)}`, 'a red circle');
    expect(long!.embeds.shape).toEqual([1, 154, 2048]);
    const refiner = loadCheckpoint(path.join(MODELS_DIR, 'checkpoints', 'toyworld-xl-refiner'), 'toyworld-xl-refiner', pool).clip;
    expect(refiner.sdxl).toBe('refiner');
    expect((await encodeText(refiner, 'a red circle'))[0]!.embeds.shape).toEqual([1, 77, 1280]);
  });

  it('weights per tower against that tower\'s empty prompt; the pooled output stays the unweighted one', async () => {
    const clip = loadCheckpoint(XL, 'toyworld-xl', host.services.get(MODEL_POOL)).clip;
    const [plain] = await encodeText(clip, 'a red circle');
    const [weighted] = await encodeText(clip, 'a (red:1.5) circle');
    const at = (t: typeof plain, token: number, dim: number) => t!.embeds.data[token * 2048 + dim]!;
    // Token 2 is "red": toyworld-xl's concept vector is one-hot on colour 0 in both towers (clip_l at 0, clip_g at 768).
    expect([at(plain, 2, 0), at(plain, 2, 768)]).toEqual([1, 1]);
    expect([at(weighted, 2, 0), at(weighted, 2, 768)]).toEqual([1.5, 1.5]);
    expect(Array.from(weighted!.pooled!.data)).toEqual(Array.from(plain!.pooled!.data));
  });

  it('names a missing tokenizer_2/ at load, and a text encoder without hidden_states.N when encoding', async () => {
    const pool = host.services.get(MODEL_POOL);
    const noTok = path.join(tempDir('lf-xl-notok-'), 'xl');
    cpSync(XL, noTok, { recursive: true });
    rmSync(path.join(noTok, 'tokenizer_2'), { recursive: true });
    expect(() => loadCheckpoint(noTok, 'xl-notok', pool)).toThrow(CheckpointLoadError);
    expect(() => loadCheckpoint(noTok, 'xl-notok', pool)).toThrow(/checkpoint 'xl-notok' has text_encoder_2\/ but no tokenizer_2\//);
    const noHidden = path.join(tempDir('lf-xl-nohidden-'), 'xl');
    cpSync(XL, noHidden, { recursive: true });
    cpSync(path.join(MODELS_DIR, 'checkpoints', 'toyworld-shapes', 'text_encoder', 'model.onnx'), path.join(noHidden, 'text_encoder_2', 'model.onnx'));
    const clip = loadCheckpoint(noHidden, 'xl-nohidden', pool).clip;
    await expect(encodeText(clip, 'a red circle')).rejects.toThrow(/text encoder of 'xl-nohidden \(text_encoder_2\)' exports no hidden_states.N outputs .*SDXL needs the penultimate layer/);
  });
});
