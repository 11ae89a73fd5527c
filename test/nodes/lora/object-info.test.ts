/** LoraLoader / LoraLoaderModelOnly in /object_info: ComfyUI's inputs, order, ranges, outputs, and the LoRAs models/loras holds. */
import { describe, expect, it } from 'vitest';
import { realObjectInfo } from '../../fixtures/object-info.js';
import { ensureToyworld, MODELS_DIR } from '../diffusion/helpers.js';

describe('LoRA loaders in /object_info', () => {
  it('publish ComfyUI nodes.py inputs and list models/loras', async () => {
    await ensureToyworld();
    const info = await realObjectInfo({ modelsDir: MODELS_DIR });
    const loras = ['toyworld-purple.safetensors', 'toyworld-square.safetensors'];
    const strength = { default: 1, min: -100, max: 100, step: 0.01 };
    expect(info.LoraLoader.input.required).toEqual({
      model: ['MODEL', { tooltip: 'The diffusion model the LoRA will be applied to.' }],
      clip: ['CLIP', { tooltip: 'The CLIP model the LoRA will be applied to.' }],
      lora_name: [loras, { tooltip: 'The name of the LoRA.' }],
      strength_model: ['FLOAT', { ...strength, tooltip: 'How strongly to modify the diffusion model. This value can be negative.' }],
      strength_clip: ['FLOAT', { ...strength, tooltip: 'How strongly to modify the CLIP model. This value can be negative.' }],
    });
    expect(info.LoraLoader.input_order).toEqual({ required: ['model', 'clip', 'lora_name', 'strength_model', 'strength_clip'] });
    expect([info.LoraLoader.output, info.LoraLoader.display_name, info.LoraLoader.category]).toEqual([['MODEL', 'CLIP'], 'Load LoRA', 'loaders']);
    expect(info.LoraLoaderModelOnly.input.required).toEqual({ model: ['MODEL', {}], lora_name: [loras, {}], strength_model: ['FLOAT', strength] });
    expect(info.LoraLoaderModelOnly.output).toEqual(['MODEL']);
  });
});
