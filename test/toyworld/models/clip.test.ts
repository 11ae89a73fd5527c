import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { IMAGENET_MEAN, IMAGENET_STD } from '../../../toyworld/models/classifier.js';
import { CLIP_DIM, CLIP_MEAN, CLIP_STD } from '../../../toyworld/models/clip.js';
import { COLOURS, PLACEMENTS_PER_SHAPE, SHAPES, renderPrototype, renderShape, type RgbImage } from '../../../toyworld/world.js';
import { LABELS, zeroShot, type ZeroShot } from '../clip-helpers.js';
import { floatData, normals, promptIds, resizeRgb, session, toPixels } from '../helpers.js';

/** One prototype per class, cycling through the placements. */
function classPrototypes(): RgbImage[] {
  return LABELS.map((_, cls) =>
    resizeRgb(renderPrototype({ colour: Math.floor(cls / SHAPES.length), shape: cls % SHAPES.length, placement: cls % PLACEMENTS_PER_SHAPE }), 224, 224),
  );
}

interface Drawn {
  img: RgbImage;
  label: string;
}

/** Shapes drawn "by someone else": anywhere, 20-60% of the frame wide, colour jittered by up to +-20. */
function randomShapes(n: number, seed: number): Drawn[] {
  const u = Array.from(normals(n * 8, seed), (v) => 0.5 + 0.5 * Math.tanh(v));
  const out: Drawn[] = [];
  for (let i = 0; i < n; i++) {
    const r = u.slice(i * 8, i * 8 + 8);
    const c = Math.min(COLOURS.length - 1, Math.floor(r[0] * COLOURS.length));
    const s = Math.min(SHAPES.length - 1, Math.floor(r[1] * SHAPES.length));
    const size = 0.2 + 0.4 * r[2];
    const rgb = COLOURS[c].rgb.map((v, k) => Math.min(255, Math.max(0, v + 40 * (r[5 + k] - 0.5))));
    const img = renderShape({
      colour: [rgb[0], rgb[1], rgb[2]],
      shape: SHAPES[s],
      cx: size / 2 + (1 - size) * r[3],
      cy: size / 2 + (1 - size) * r[4],
      size,
      width: 224,
      height: 224,
    });
    out.push({ img, label: `${COLOURS[c].name} ${SHAPES[s]}` });
  }
  return out;
}

describe('toyworld CLIP', () => {
  let drawn: Drawn[];
  let clip: ZeroShot;
  beforeAll(async () => {
    drawn = randomShapes(100, 2024);
    clip = await zeroShot(drawn.map((d) => d.img));
  });

  it('classifies a prototype of every class zero-shot with confidence > 0.9', async () => {
    const r = await zeroShot(classPrototypes());
    LABELS.forEach((label, cls) => {
      expect(r.best[cls]).toBe(label);
      expect(r.probs[cls][cls], label).toBeGreaterThan(0.9);
    });
  });

  it('recognises randomly placed, sized and tinted shapes drawn with renderShape', async () => {
    const correct = drawn.filter((d, i) => clip.best[i] === d.label).length;
    const accuracy = correct / drawn.length;
    console.log(`toyworld CLIP zero-shot accuracy on ${drawn.length} random shapes: ${(100 * accuracy).toFixed(1)}%`);
    expect(accuracy).toBeGreaterThanOrEqual(0.95);
  });

  it('text and vision towers agree with the joint model', async () => {
    const text = await session('clip_vision/toyworld-clip/onnx/text_model.onnx');
    const vision = await session('clip_vision/toyworld-clip/onnx/vision_model.onnx');
    const ids = [...promptIds('a red circle', 8), ...promptIds('blue square', 8)];
    const t = await text.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, (v) => BigInt(v)), [2, 8]) });
    expect(t.text_embeds.dims).toEqual([2, CLIP_DIM]);
    expect(t.last_hidden_state.dims).toEqual([2, 8, CLIP_DIM]);
    const te = floatData(t.text_embeds);
    const red = COLOURS.findIndex((c) => c.name === 'red');
    const circle = COLOURS.length + SHAPES.indexOf('circle');
    expect(te[red]).toBe(1);
    expect(te[circle]).toBe(1);
    expect(te.slice(0, CLIP_DIM).reduce((a, b) => a + b, 0)).toBe(2);

    const img = classPrototypes()[0];
    const v = floatData((await vision.run({ pixel_values: toPixels([img], CLIP_MEAN, CLIP_STD) })).image_embeds);
    expect(v.length).toBe(CLIP_DIM);
    expect(v[red]).toBeGreaterThan(0.9);
    expect(v[circle]).toBeGreaterThan(0.9);
  });

  it('the classifier agrees with CLIP on random shapes', async () => {
    const cls = await session('classifiers/toyworld-shapes/model.onnx');
    const logits = floatData((await cls.run({ input: toPixels(drawn.map((d) => d.img), IMAGENET_MEAN, IMAGENET_STD) })).logits);
    let agree = 0;
    let right = 0;
    drawn.forEach((d, i) => {
      const row = Array.from(logits.subarray(i * LABELS.length, (i + 1) * LABELS.length));
      const best = LABELS[row.indexOf(Math.max(...row))];
      if (best === clip.best[i]) agree++;
      if (best === d.label) right++;
    });
    expect(agree / drawn.length).toBeGreaterThanOrEqual(0.95);
    expect(right / drawn.length).toBeGreaterThanOrEqual(0.95);
  });
});
