import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Host } from '../../../host/host.js';
import { listClipText, listClipVision, loadClipText, loadClipVision } from '../../../nodes/clip/loaders.js';
import { encodeText } from '../../../nodes/diffusion/clip-text.js';
import { isClipModel } from '../../../sockets/index.js';
import { encodeTexts } from '../../../nodes/clip/embed.js';
import { MODELS, toyHost } from './helpers.js';

let host: Host;
beforeAll(async () => {
  host = await toyHost();
});
afterAll(() => host?.close());

const FOLDER = path.join(MODELS, 'clip_vision/toyworld-clip');

describe('CLIP loaders', () => {
  it('list the toyworld CLIP folder for both towers', () => {
    expect(listClipVision(host.services)).toContain('toyworld-clip');
    expect(listClipText(host.services)).toContain('toyworld-clip');
  });

  it('read logit scale and preprocessing from the folder', () => {
    const m = loadClipVision(FOLDER, 'toyworld-clip', host.services);
    expect(m.logitScale).toBeCloseTo(100, 6);
    expect(m.preprocess).toMatchObject({ resize: { kind: 'shortest_edge', size: 224 }, resample: 'bicubic', crop: { height: 224, width: 224 } });
    expect(m.text).toBeDefined();
  });

  it('CLIPLoader gives the CLIP socket CLIPTextEncode takes; its pooled output is the text embedding', async () => {
    const clip = loadClipText(FOLDER, 'toyworld-clip', host.services);
    expect(isClipModel(clip)).toBe(true);
    const cond = await encodeText(clip, 'a photo of a red circle');
    expect(cond[0]!.embeds.shape).toEqual([1, 77, 512]);
    const direct = await encodeTexts(loadClipVision(FOLDER, 'toyworld-clip', host.services), ['a photo of a red circle']);
    expect(Array.from(cond[0]!.pooled!.data)).toEqual(Array.from(direct.data));
  });

  it('publishes ComfyUI input names for CLIPVisionLoader, CLIPVisionEncode, CLIPLoader and unCLIPConditioning', () => {
    const info = host.engine.objectInfo();
    expect(info.CLIPVisionLoader?.input_order.required).toEqual(['clip_name']);
    expect(info.CLIPVisionLoader?.output).toEqual(['CLIP_VISION']);
    expect(info.CLIPVisionEncode?.input_order.required).toEqual(['clip_vision', 'image', 'crop']);
    expect(info.CLIPVisionEncode?.input.required.crop?.[0]).toEqual(['center', 'none']);
    expect(info.CLIPVisionEncode?.output).toEqual(['CLIP_VISION_OUTPUT']);
    expect(info.CLIPLoader?.input_order.required).toEqual(['clip_name', 'type']);
    // ComfyUI's optional, advanced `device`: "cpu" keeps the text encoder off the GPU.
    expect(info.CLIPLoader?.input.optional?.device).toEqual([['default', 'cpu'], { advanced: true }]);
    expect(info.unCLIPConditioning?.input_order.required).toEqual(['conditioning', 'clip_vision_output', 'strength', 'noise_augmentation']);
    expect(info.unCLIPConditioning?.input.required.strength?.[1]).toMatchObject({ default: 1, min: -10, max: 10, step: 0.01 });
    expect(info.unCLIPConditioning?.input.required.noise_augmentation?.[1]).toMatchObject({ default: 0, min: 0, max: 1, step: 0.01 });
    expect(info.ZeroShotClassifier?.output).toEqual(['SCORES', 'STRING']);
    expect(info.ImageSearch?.input.optional?.image?.[0]).toBe('IMAGE');
  });

  it('rejects folder names that escape models/clip_vision', () => {
    const v = host.engine.validate({
      '1': { class_type: 'CLIPVisionLoader', inputs: { clip_name: '../checkpoints/toyworld-shapes' } },
      '2': { class_type: 'ZeroShotClassifier', inputs: { clip_vision: ['1', 0], images: ['3', 0], labels: 'a', template: '{}' } },
      '3': { class_type: 'LoadImage', inputs: { image: 'missing.png' } },
    });
    expect(v.node_errors['1']?.errors[0]?.type).toBe('value_not_in_list');
  });
});
