import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Host } from '../../../host/host.js';
import { loadClipVision } from '../../../nodes/clip/loaders.js';
import { rankImages, selectRows } from '../../../nodes/clip/rerank.js';
import { encodeImages } from '../../../nodes/clip/embed.js';
import { applyUnclip, hasUnclip } from '../../../nodes/clip/unclip.js';
import { Tensor } from '../../../runtime/tensor.js';
import type { ClipVisionModel } from '../../../nodes/clip/types.js';
import type { Conditioning } from '../../../sockets/index.js';
import type { ShapeName } from '../../../toyworld/world.js';
import { MODELS, batch, randomShape, rng, toyHost } from './helpers.js';

let host: Host;
let model: ClipVisionModel;
beforeAll(async () => {
  host = await toyHost();
  model = loadClipVision(path.join(MODELS, 'clip_vision/toyworld-clip'), 'toyworld-clip', host.services);
});
afterAll(() => host?.close());

describe('CLIP rerank', () => {
  it('puts the green rings of 8 mixed images first', async () => {
    const rand = rng(3);
    const spec: [string, ShapeName][] = [
      ['red', 'ring'], ['green', 'circle'], ['green', 'ring'], ['blue', 'square'],
      ['green', 'cross'], ['yellow', 'ring'], ['green', 'ring'], ['cyan', 'ring'],
    ];
    const images = batch(spec.map(([c, s]) => randomShape(c, s, rand)));
    const { order, sims } = await rankImages(model, images, 'a green ring', 8);
    expect(order.slice(0, 2).sort()).toEqual([2, 6]);
    expect(order).toHaveLength(8);
    for (let i = 1; i < order.length; i++) expect(sims[order[i - 1]!]!).toBeGreaterThanOrEqual(sims[order[i]!]!);
    const kept = selectRows(images, order.slice(0, 2));
    expect(kept.shape).toEqual([2, 128, 128, 3]);
    const per = 128 * 128 * 3;
    expect(kept.data.subarray(0, per)).toEqual(images.data.subarray(order[0]! * per, (order[0]! + 1) * per));
  });

  it('refuses an empty prompt', async () => {
    const images = batch([randomShape('red', 'ring', rng(1))]);
    await expect(rankImages(model, images, '  ', 1)).rejects.toThrow(/empty prompt/);
  });
});

describe('unCLIPConditioning', () => {
  it('appends image embeds to every entry as ComfyUI does; strength 0 leaves the conditioning alone', async () => {
    const v = await encodeImages(model, batch([randomShape('purple', 'triangle', rng(5))]), 'center');
    const out = { image_embeds: v.imageEmbeds, model: model.name };
    const cond: Conditioning = [{ embeds: Tensor.zeros([1, 77, 8]), strength: 1 }, { embeds: Tensor.zeros([1, 77, 8]), strength: 0.5 }];
    const once = applyUnclip(cond, out, 0.8, 0.1);
    const twice = applyUnclip(once, out, 1.5, 0);
    expect(twice).toHaveLength(2);
    for (const e of twice) {
      expect(hasUnclip(e)).toBe(true);
      if (!hasUnclip(e)) continue;
      expect(e.unclip_conditioning.map((u) => [u.strength, u.noise_augmentation])).toEqual([[0.8, 0.1], [1.5, 0]]);
      expect(e.unclip_conditioning[0]!.clip_vision_output.image_embeds.shape).toEqual([1, 512]);
    }
    expect(twice[1]!.strength).toBe(0.5);
    expect(hasUnclip(cond[0]!)).toBe(false);
    expect(applyUnclip(cond, out, 0, 0.3)).toBe(cond);
  });
});
