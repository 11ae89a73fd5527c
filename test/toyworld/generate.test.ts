import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { generateToyworld, STAMP_FILE, TOYWORLD_VERSION } from '../../toyworld/generate.js';
import { checkModel } from '../../toyworld/onnx/check.js';
import { CONTROLNET_FOLDER, FLAVOURS, UPSCALER_FILE } from '../../toyworld/pack.js';
import { tempDir } from '../fixtures/temp-dir.js';

describe('generateToyworld', () => {
  const dir = tempDir('toyworld-gen-');
  let written: string[] = [];

  it('writes the whole pack in well under 20 s and stamps it', async () => {
    const started = Date.now();
    const r = await generateToyworld(dir);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(r.skipped).toBe(false);
    written = r.written;
    for (const f of FLAVOURS) {
      for (const part of ['model_index.json', 'text_encoder/model.onnx', 'unet/model.onnx', 'vae_encoder/model.onnx', 'vae_decoder/model.onnx', 'vae_decoder/config.json', 'scheduler/scheduler_config.json', 'tokenizer/vocab.json', 'tokenizer/merges.txt']) {
        expect(written).toContain(`checkpoints/${f.name}/${part}`);
      }
    }
    for (const p of ['config.json', 'preprocessor_config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/text_model.onnx', 'onnx/vision_model.onnx', 'onnx/model.onnx']) {
      expect(written).toContain(`clip_vision/toyworld-clip/${p}`);
    }
    expect(written).toContain('classifiers/toyworld-shapes/labels.txt');
    expect(written).toContain(UPSCALER_FILE);
    expect(readFileSync(join(dir, STAMP_FILE), 'utf8').trim()).toBe(TOYWORLD_VERSION);
    expect(readdirSync(dir).filter((n) => n.startsWith('.toyworld-tmp'))).toEqual([]);
  });

  it('every model passes checkModel and loads in onnxruntime with the declared signature', async () => {
    const onnx = written.filter((p) => p.endsWith('.onnx'));
    // Four per checkpoint, cnet/ where a flavour has one, CLIP x3, classifier, upscaler, ControlNet; toyworld-xl 5 + refiner 4 + fp16 5.
    expect(onnx.length).toBe(FLAVOURS.length * 4 + FLAVOURS.filter((f) => f.cnet).length + 6 + 14);
    for (const p of onnx) {
      const bytes = readFileSync(join(dir, p));
      const summary = checkModel(bytes);
      expect(summary.opset).toBeLessThanOrEqual(17);
      const s = await ort.InferenceSession.create(bytes);
      expect([...s.inputNames].sort(), p).toEqual([...summary.inputs].sort());
      expect([...s.outputNames].sort(), p).toEqual([...summary.outputs].sort());
      await s.release();
    }
  });

  it('declares the exporter signatures of each flavour', async () => {
    const meta = async (p: string): Promise<Record<string, { type: string; shape: ReadonlyArray<number | string> }>> => {
      const s = await ort.InferenceSession.create(readFileSync(join(dir, p)));
      const out: Record<string, { type: string; shape: ReadonlyArray<number | string> }> = {};
      for (const m of [...s.inputMetadata, ...s.outputMetadata]) {
        if (m.isTensor) out[m.name] = { type: m.type, shape: m.shape };
      }
      return out;
    };
    const xl = await meta('checkpoints/toyworld-xl/unet/model.onnx');
    expect(xl.encoder_hidden_states.shape).toEqual(['batch', 'sequence', 2048]);
    expect(xl.text_embeds.shape).toEqual(['batch', 1280]);
    expect(xl.time_ids.shape).toEqual(['batch', 6]);
    expect((await meta('checkpoints/toyworld-xl-refiner/unet/model.onnx')).time_ids.shape).toEqual(['batch', 5]);
    const te2 = await meta('checkpoints/toyworld-xl/text_encoder_2/model.onnx');
    expect(Object.keys(te2).sort()).toEqual(['hidden_states.0', 'hidden_states.1', 'hidden_states.2', 'input_ids', 'last_hidden_state', 'text_embeds']);
    const base = await meta('checkpoints/toyworld-shapes/unet/model.onnx');
    expect(base.timestep).toEqual({ type: 'float32', shape: ['batch'] });
    expect(base.sample.shape).toEqual(['batch', 4, 'height', 'width']);
    expect((await meta('checkpoints/toyworld-shapes-int64t/unet/model.onnx')).timestep.type).toBe('int64');
    expect((await meta('checkpoints/toyworld-shapes-scalart/unet/model.onnx')).timestep.shape).toEqual([]);
    const fp16 = await meta('checkpoints/toyworld-shapes-fp16/unet/model.onnx');
    for (const n of ['sample', 'timestep', 'encoder_hidden_states', 'out_sample']) expect(fp16[n].type).toBe('float16');
    for (const part of ['text_encoder', 'vae_encoder', 'vae_decoder']) {
      const m = await meta(`checkpoints/toyworld-shapes-fp16/${part}/model.onnx`);
      for (const [name, v] of Object.entries(m)) if (name !== 'input_ids') expect(v.type, `${part}.${name}`).toBe('float16');
    }
    expect((await meta('checkpoints/toyworld-shapes/text_encoder/model.onnx')).input_ids.type).toBe('int32');
    const cnet = await meta('checkpoints/toyworld-shapes/cnet/model.onnx');
    expect(cnet.down_block_0).toEqual({ type: 'float32', shape: ['batch', 1, 'height', 'width'] });
    expect(cnet.mid_block_additional_residual.shape).toEqual(['batch', 1, 'height', 'width']);
    const cn = await meta(`${CONTROLNET_FOLDER}/model.onnx`);
    expect(cn.controlnet_cond.shape).toEqual(['batch', 3, 'cond_height', 'cond_width']);
    expect(Object.keys(cn).sort()).toEqual(['controlnet_cond', 'down_block_0', 'encoder_hidden_states', 'mid_block_res_sample', 'sample', 'timestep']);
    const lp = await meta('checkpoints/toyworld-shapes-latentparams/vae_encoder/model.onnx');
    expect(lp.latent_parameters.shape[1]).toBe(8);
    expect((await meta('checkpoints/toyworld-shapes-latentparams/text_encoder/model.onnx')).input_ids.type).toBe('int64');
    const sched = JSON.parse(readFileSync(join(dir, 'checkpoints/toyworld-shapes-vpred/scheduler/scheduler_config.json'), 'utf8'));
    expect(sched.prediction_type).toBe('v_prediction');
    const vae = JSON.parse(readFileSync(join(dir, 'checkpoints/toyworld-shapes/vae_decoder/config.json'), 'utf8'));
    expect(vae.scaling_factor).not.toBe(0.18215);
    const up = await meta(UPSCALER_FILE);
    expect(up.input).toEqual({ type: 'float32', shape: ['batch_size', 3, 'height', 'width'] });
    expect(up.output).toEqual({ type: 'float32', shape: ['batch_size', 3, 'height_x4', 'width_x4'] });
  });

  it('regenerates byte-identical files, and skips with ifMissing when stamped', async () => {
    const other = tempDir('toyworld-gen2-');
    await generateToyworld(other);
    for (const p of written) expect(readFileSync(join(other, p)).equals(readFileSync(join(dir, p))), p).toBe(true);
    const skipped = await generateToyworld(other, { ifMissing: true });
    expect(skipped).toEqual({ written: [], skipped: true });
    writeFileSync(join(other, STAMP_FILE), '0.0.0\n');
    const redone = await generateToyworld(other, { ifMissing: true });
    expect(redone.skipped).toBe(false);
    expect(existsSync(join(other, 'checkpoints/toyworld-shapes/unet/model.onnx'))).toBe(true);
  });

  it('replaces a damaged folder, removes stray files in it, and survives concurrent generators', async () => {
    const third = tempDir('toyworld-gen3-');
    await Promise.all([generateToyworld(third), generateToyworld(third)]);
    const unet = 'checkpoints/toyworld-shapes/unet/model.onnx';
    writeFileSync(join(third, unet), 'garbage');
    writeFileSync(join(third, 'checkpoints/toyworld-shapes/stray.txt'), 'x');
    await generateToyworld(third);
    expect(readFileSync(join(third, unet)).equals(readFileSync(join(dir, unet)))).toBe(true);
    expect(existsSync(join(third, 'checkpoints/toyworld-shapes/stray.txt'))).toBe(false);
    expect(readdirSync(third).filter((n) => n.startsWith('.toyworld-tmp'))).toEqual([]);
  });

  it('writes a single-file unit (the upscaler) when missing or damaged, and leaves the rest of its folder alone', async () => {
    const fourth = tempDir('toyworld-gen4-');
    await generateToyworld(fourth);
    rmSync(join(fourth, UPSCALER_FILE));
    writeFileSync(join(fourth, 'upscale_models/mine.onnx'), 'a user model');
    await generateToyworld(fourth);
    expect(readFileSync(join(fourth, UPSCALER_FILE)).equals(readFileSync(join(dir, UPSCALER_FILE)))).toBe(true);
    writeFileSync(join(fourth, UPSCALER_FILE), 'garbage');
    await generateToyworld(fourth);
    expect(readFileSync(join(fourth, UPSCALER_FILE)).equals(readFileSync(join(dir, UPSCALER_FILE)))).toBe(true);
    expect(readFileSync(join(fourth, 'upscale_models/mine.onnx'), 'utf8')).toBe('a user model');
  });
});
