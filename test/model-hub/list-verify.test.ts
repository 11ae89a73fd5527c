import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelNotFoundError } from '../../model-hub/errors.js';
import { listInstalledModels } from '../../model-hub/list.js';
import { pullModel } from '../../model-hub/pull.js';
import { formatVerifyReport, verifyModel } from '../../model-hub/verify.js';
import { ModelPool } from '../../runtime/model-pool.js';
import { startFakeHub, type FakeHub } from './fake-hub.js';
import { tempDir } from '../fixtures/temp-dir.js';
import { tempToyworld } from '../fixtures/toyworld.js';

const FLAVOURS: Record<string, string> = {
  'toyworld-shapes': 'diffusers-onnx fp32 (int32 ids, float timestep [B]), ControlNet-ready cnet/ (onnx-web residual names, 1 down + mid)',
  'toyworld-shapes-int64t': 'optimum <=1.23 fp32 (int32 ids, int64 timestep [B])',
  'toyworld-shapes-scalart': 'optimum >=1.24 fp32 (int32 ids, float timestep [])',
  'toyworld-shapes-fp16': 'olive fp16 (int32 ids, float16 timestep [B])',
  'toyworld-shapes-vpred': 'diffusers-onnx fp32 (int32 ids, float timestep [B]), v-prediction',
  'toyworld-shapes-latentparams': 'optimum fp32 (int64 ids, float timestep [B]), latent_parameters VAE',
  'toyworld-xl': 'optimum fp32 (int64 ids, float timestep [B]), SDXL base',
  'toyworld-xl-refiner': 'optimum fp32 (int64 ids, float timestep [B]), SDXL refiner',
};
const ROLES: Record<string, string[]> = {
  'toyworld-shapes': ['unet', 'text_encoder', 'vae_encoder', 'unet_residual', 'vae_decoder'],
  'toyworld-xl': ['unet', 'text_encoder', 'text_encoder_2', 'vae_encoder', 'vae_decoder'],
  'toyworld-xl-refiner': ['unet', 'text_encoder_2', 'vae_encoder', 'vae_decoder'],
};

let hub: FakeHub;
let pack = '';
let models = '';
let pool: ModelPool;

beforeAll(async () => {
  pack = await tempToyworld();
  const repos: Record<string, string> = { 'toy/toyworld-clip': path.join(pack, 'clip_vision', 'toyworld-clip') };
  for (const name of Object.keys(FLAVOURS)) repos[`toy/${name}`] = path.join(pack, 'checkpoints', name);
  // A classifier as Hugging Face ships one: onnx/model.onnx and id2label in config.json, no labels.txt.
  const cls = tempDir('lf-cls-repo-');
  mkdirSync(path.join(cls, 'onnx'));
  cpSync(path.join(pack, 'classifiers', 'toyworld-shapes', 'model.onnx'), path.join(cls, 'onnx', 'model.onnx'));
  cpSync(path.join(pack, 'classifiers', 'toyworld-shapes', 'preprocessor_config.json'), path.join(cls, 'preprocessor_config.json'));
  const labels = readFileSync(path.join(pack, 'classifiers', 'toyworld-shapes', 'labels.txt'), 'utf8').trim().split('\n');
  writeFileSync(path.join(cls, 'config.json'), JSON.stringify({ id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])) }));
  repos['toy/shapes-classifier'] = cls;
  hub = await startFakeHub({ repos });
  models = tempDir('lf-models-');
  for (const name of Object.keys(FLAVOURS)) await pullModel({ modelsDir: models, spec: `toy/${name}`, hub: { endpoint: hub.endpoint } });
  await pullModel({ modelsDir: models, spec: 'toy/toyworld-clip', hub: { endpoint: hub.endpoint } });
  await pullModel({ modelsDir: models, spec: 'toy/shapes-classifier', hub: { endpoint: hub.endpoint } });
  pool = new ModelPool({ workers: 1 });
});
afterAll(async () => {
  await pool?.close();
  await hub?.close();
});

describe('models list', () => {
  it('shows every pulled model with its kind, flavour, size and source', async () => {
    const list = await listInstalledModels(models);
    expect(list.map((m) => [m.kind, m.name, m.flavour])).toEqual([
      ...Object.keys(FLAVOURS).sort().map((n) => ['checkpoint', n, FLAVOURS[n]]),
      ['clip_vision', 'toyworld-clip', 'transformers.js clip (text+vision+combined, fp32, 512-d)'],
      ['classifier', 'shapes-classifier', 'onnx classifier (40 classes, fp32)'],
    ]);
    for (const m of list) {
      expect(m.problems).toEqual([]);
      expect(m.source).toBe(`toy/${m.name}@main`);
      expect(m.bytes).toBeGreaterThan(100_000);
    }
  });
});

describe('models verify', () => {
  it('accepts every checkpoint flavour, opening each session through the model pool', async () => {
    for (const name of Object.keys(FLAVOURS)) {
      const [r] = await verifyModel(models, name, pool);
      expect(r.ok, formatVerifyReport(r)).toBe(true);
      expect(r.components.map((c) => c.role)).toEqual(ROLES[name] ?? ['unet', 'text_encoder', 'vae_encoder', 'vae_decoder']);
      expect(r.flavour).toBe(FLAVOURS[name]);
    }
    const [base] = await verifyModel(models, 'toyworld-shapes', pool);
    expect(base.components.find((c) => c.role === 'unet_residual')?.notes).toContain('ControlNet residuals: onnx-web names (1 down + mid: down_block_0..down_block_0, mid_block_additional_residual)');
    const loaded = new Set(pool.stats().sessions.map((s) => path.relative(models, s.path)));
    expect(loaded.has(path.join('checkpoints', 'toyworld-shapes-fp16', 'unet', 'model.onnx'))).toBe(true);
  });

  it('accepts the CLIP folder and the classifier with labels made from id2label', async () => {
    const [clip] = await verifyModel(models, 'toyworld-clip', pool);
    expect(clip.ok, formatVerifyReport(clip)).toBe(true);
    expect(clip.components.find((c) => c.role === 'clip_vision')?.inputs.map((m) => `${m.name}:${m.dtype}`)).toEqual(['pixel_values:float32']);
    const [cls] = await verifyModel(models, 'classifiers/shapes-classifier', pool);
    expect(cls.ok, formatVerifyReport(cls)).toBe(true);
    expect(readFileSync(path.join(cls.dir, 'labels.txt'), 'utf8')).toBe(readFileSync(path.join(pack, 'classifiers', 'toyworld-shapes', 'labels.txt'), 'utf8').trim() + '\n');
  });

  it('says why a checkpoint cannot be driven', async () => {
    const broken = path.join(models, 'checkpoints', 'broken');
    cpSync(path.join(models, 'checkpoints', 'toyworld-shapes'), broken, { recursive: true });
    cpSync(path.join(pack, 'classifiers', 'toyworld-shapes', 'model.onnx'), path.join(broken, 'unet', 'model.onnx'));
    rmSync(path.join(broken, 'tokenizer'), { recursive: true });
    const [r] = await verifyModel(models, 'broken', pool);
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual(['no tokenizer (tokenizer/vocab.json + merges.txt or tokenizer.json)']);
    const unet = r.components.find((c) => c.role === 'unet');
    expect(unet?.problems).toContain("no 'timestep' input (inputs: input)");
    expect(formatVerifyReport(r)).toMatch(/NOT USABLE[\s\S]*FAIL unet \(unet\/model\.onnx\)\n\s+in  input: float32\[batch_size,3,224,224\]/);
    rmSync(broken, { recursive: true });
  });

  it('names what an SDXL export lacks: tokenizer_2/, hidden_states.N outputs, the projected text_embeds', async () => {
    const broken = path.join(models, 'checkpoints', 'broken-xl');
    cpSync(path.join(models, 'checkpoints', 'toyworld-xl'), broken, { recursive: true });
    rmSync(path.join(broken, 'tokenizer_2'), { recursive: true });
    cpSync(path.join(models, 'checkpoints', 'toyworld-shapes', 'text_encoder', 'model.onnx'), path.join(broken, 'text_encoder_2', 'model.onnx'));
    const [r] = await verifyModel(models, 'broken-xl', pool);
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual(['text_encoder_2/ without tokenizer_2/ (vocab.json + merges.txt or tokenizer.json)']);
    const te2 = r.components.find((c) => c.role === 'text_encoder_2');
    expect(te2?.problems).toEqual([
      'SDXL text encoder 2 (OpenCLIP bigG): no hidden_states.N outputs (only last_hidden_state, pooler_output); SDXL reads the penultimate layer: export with output_hidden_states, as optimum does for SDXL',
      'SDXL text encoder 2: no text_embeds output (the projected pooled vector the U-Net takes)',
    ]);
    expect(r.components.find((c) => c.role === 'unet')?.notes).toContain('SDXL: text_embeds + time_ids [B,6] (size, crop, target size)');
    rmSync(broken, { recursive: true });
  });

  it('throws a named error for an unknown model', async () => {
    await expect(verifyModel(models, 'nope', pool)).rejects.toBeInstanceOf(ModelNotFoundError);
  });
});
