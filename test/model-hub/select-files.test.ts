import { describe, expect, it } from 'vitest';
import { UnsupportedLayoutError } from '../../model-hub/errors.js';
import type { HubFile } from '../../model-hub/hub-client.js';
import { detectKind, planPull } from '../../model-hub/select-files.js';

const files = (...paths: string[]): HubFile[] => paths.map((p) => ({ path: p, size: 1 }));
const locals = (fs: readonly { local: string }[]): string[] => fs.map((f) => f.local).sort();

/** The diffusers convert script's layout next to the PyTorch weights (as in an `onnx` branch). */
const DIFFUSERS = files(
  '.gitattributes', 'README.md', 'model_index.json', 'v1-5-pruned.safetensors',
  'scheduler/scheduler_config.json',
  'text_encoder/model.onnx', 'text_encoder/config.json', 'text_encoder/pytorch_model.bin',
  'tokenizer/vocab.json', 'tokenizer/merges.txt', 'tokenizer/tokenizer_config.json', 'tokenizer/special_tokens_map.json',
  'unet/model.onnx', 'unet/weights.pb', 'unet/diffusion_pytorch_model.safetensors', 'unet/config.json',
  'vae_decoder/model.onnx', 'vae_encoder/model.onnx', 'safety_checker/model.onnx', 'feature_extractor/preprocessor_config.json',
);

describe('planPull', () => {
  it('takes a diffusers ONNX pipeline with its external weights and nothing else', () => {
    const plan = planPull(DIFFUSERS);
    expect(plan.kind).toBe('checkpoint');
    expect(locals(plan.files)).toEqual([
      'model_index.json', 'scheduler/scheduler_config.json',
      'text_encoder/config.json', 'text_encoder/model.onnx',
      'tokenizer/merges.txt', 'tokenizer/special_tokens_map.json', 'tokenizer/tokenizer_config.json', 'tokenizer/vocab.json',
      'unet/config.json', 'unet/model.onnx', 'unet/weights.pb', 'vae_decoder/model.onnx', 'vae_encoder/model.onnx',
    ]);
  });

  it('keeps optimum external data with its model and leaves other variants out', () => {
    const repo = files('model_index.json', 'text_encoder/model.onnx', 'tokenizer/vocab.json', 'tokenizer/merges.txt',
      'unet/model.onnx', 'unet/model.onnx_data', 'unet/model_fp16.onnx', 'unet/model_fp16.onnx_data', 'vae_decoder/model.onnx');
    expect(locals(planPull(repo).files).filter((p) => p.startsWith('unet/'))).toEqual(['unet/model.onnx', 'unet/model.onnx_data']);
    const fp16 = planPull(repo, { variant: 'fp16' }).files.filter((f) => f.local.startsWith('unet/'));
    // The loader opens model.onnx; the variant's data keeps the name its graph refers to.
    expect(fp16.map((f) => [f.remote, f.local])).toEqual([['unet/model_fp16.onnx', 'unet/model.onnx'], ['unet/model_fp16.onnx_data', 'unet/model_fp16.onnx_data']]);
  });

  it('names the variants present when the fp32 model is missing', () => {
    const repo = files('model_index.json', 'text_encoder/model_q4.onnx', 'text_encoder/model_fp16.onnx', 'tokenizer/vocab.json',
      'unet/model.onnx', 'vae_decoder/model.onnx');
    expect(() => planPull(repo)).toThrow(/no text_encoder\/model\.onnx; variants present: (q4, fp16|fp16, q4) \(pick one with --variant\)/);
  });

  it('reads a pipeline from a subfolder and downloads from the full paths', () => {
    const repo = files('README.md', 'onnx/model_index.json', 'onnx/text_encoder/model.onnx', 'onnx/tokenizer/vocab.json',
      'onnx/unet/model.onnx', 'onnx/vae_decoder/model.onnx', 'unet/diffusion_pytorch_model.safetensors');
    expect(() => detectKind(repo)).toThrow(/--subfolder/);
    const plan = planPull(repo, { subfolder: 'onnx' });
    expect(plan.files.find((f) => f.local === 'unet/model.onnx')?.remote).toBe('onnx/unet/model.onnx');
    expect(() => planPull(repo, { subfolder: 'nope' })).toThrow(UnsupportedLayoutError);
  });

  it('picks the fp32 towers of a Transformers.js CLIP export', () => {
    const repo = files('config.json', 'preprocessor_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json',
      'vocab.json', 'merges.txt', 'README.md', 'onnx/model.onnx', 'onnx/model_quantized.onnx', 'onnx/text_model.onnx',
      'onnx/text_model_fp16.onnx', 'onnx/vision_model.onnx', 'onnx/vision_model_quantized.onnx', 'model.safetensors');
    const plan = planPull(repo);
    expect(plan.kind).toBe('clip_vision');
    expect(locals(plan.files)).toEqual(['config.json', 'merges.txt', 'onnx/model.onnx', 'onnx/text_model.onnx', 'onnx/vision_model.onnx',
      'preprocessor_config.json', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.json']);
    // A tower without the variant keeps its fp32 file.
    const q = planPull(repo, { variant: 'quantized' });
    expect(q.files.filter((f) => f.local.startsWith('onnx/')).map((f) => f.remote).sort()).toEqual(['onnx/model_quantized.onnx', 'onnx/text_model.onnx', 'onnx/vision_model_quantized.onnx']);
  });

  it('places a classifier model at the top of its folder', () => {
    const plan = planPull(files('config.json', 'preprocessor_config.json', 'onnx/model.onnx', 'onnx/model_int8.onnx'));
    expect(plan.kind).toBe('classifier');
    expect(plan.files.map((f) => [f.remote, f.local])).toEqual([['onnx/model.onnx', 'model.onnx'], ['config.json', 'config.json'], ['preprocessor_config.json', 'preprocessor_config.json']]);
    expect(() => planPull(files('onnx/model.onnx'))).toThrow(/labels\.txt or a config\.json/);
  });

  it('refuses repositories without an ONNX layout', () => {
    expect(() => planPull(files('model_index.json', 'unet/diffusion_pytorch_model.safetensors'))).toThrow(UnsupportedLayoutError);
    expect(() => planPull(files('README.md', 'model.safetensors'))).toThrow(/no supported ONNX layout/);
    expect(() => planPull(DIFFUSERS, { variant: '../x' })).toThrow(/variant/);
  });
});
