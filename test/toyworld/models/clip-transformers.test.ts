import { AutoTokenizer, env, pipeline, RawImage } from '@huggingface/transformers';
import { describe, expect, it } from 'vitest';
import { renderShape, SHAPES, type RgbImage } from '../../../toyworld/world.js';
import { LABELS, zeroShot } from '../clip-helpers.js';
import { tempToyworld } from '../../fixtures/toyworld.js';
import { promptIds } from '../helpers.js';

function toRaw(img: RgbImage): RawImage {
  const u8 = new Uint8ClampedArray(img.data.length);
  for (let i = 0; i < u8.length; i++) u8[i] = Math.round(img.data[i] * 255);
  return new RawImage(u8, img.width, img.height, 3);
}

/** Round-trip through 8-bit, as Transformers.js sees the image. */
function quantised(img: RgbImage): RgbImage {
  return { ...img, data: Float32Array.from(img.data, (v) => Math.round(v * 255) / 255) };
}

describe('toyworld CLIP in Transformers.js (offline)', () => {
  it('loads the folder, tokenizes like the vocab files, and ranks labels as onnx/model.onnx does', async () => {
    const dir = await tempToyworld();
    env.allowRemoteModels = false;
    env.localModelPath = `${dir}/`;
    const tok = await AutoTokenizer.from_pretrained('clip_vision/toyworld-clip');
    const enc = tok('a photo of a purple triangle');
    const ids = Array.from(enc.input_ids.tolist()[0], Number);
    expect(ids).toEqual(promptIds('a photo of a purple triangle', ids.length));

    const classify = await pipeline('zero-shot-image-classification', 'clip_vision/toyworld-clip', { dtype: 'fp32' });
    const images = [
      renderShape({ colour: 'purple', shape: 'triangle', cx: 0.3, cy: 0.35, size: 0.4, width: 224, height: 224 }),
      renderShape({ colour: 'cyan', shape: 'ring', cx: 0.6, cy: 0.55, size: 0.5, width: 224, height: 224 }),
      renderShape({ colour: 'black', shape: 'cross', cx: 0.7, cy: 0.7, size: 0.25, width: 224, height: 224 }),
    ].map(quantised);
    const labels = LABELS.filter((l) => l.startsWith('purple') || l.startsWith('cyan') || l.startsWith('black') || l.endsWith(SHAPES[0]));
    const direct = await zeroShot(images, labels);
    for (let i = 0; i < images.length; i++) {
      const out = await classify(toRaw(images[i]), labels, { hypothesis_template: 'a photo of a {}' });
      const list = Array.isArray(out) ? out : [out];
      const viaTjs = list.map((r) => ('label' in r ? String(r.label) : ''));
      const directOrder = labels.map((l, j) => ({ l, p: direct.probs[i][j] })).sort((a, b) => b.p - a.p);
      expect(viaTjs[0]).toBe(direct.best[i]);
      expect(viaTjs.slice(0, 3)).toEqual(directOrder.slice(0, 3).map((d) => d.l));
      const top = list[0];
      expect('score' in top ? Number(top.score) : 0).toBeCloseTo(directOrder[0].p, 3);
    }
  });
});
