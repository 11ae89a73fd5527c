import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Host } from '../../../host/host.js';
import { loadClipVision } from '../../../nodes/clip/loaders.js';
import { bestLabels, fillTemplate, parseLabels, zeroShotScores } from '../../../nodes/clip/zero-shot.js';
import { loadClassifier, classifyImages } from '../../../nodes/clip/classifier.js';
import { COLOURS, PLACEMENTS, SHAPES, classLabels, renderPrototype, renderShape } from '../../../toyworld/world.js';
import { MODELS, batch, toyHost } from './helpers.js';

let host: Host;
beforeAll(async () => {
  host = await toyHost();
});
afterAll(() => host?.close());

const LABELS = classLabels();
/** One prototype per class, placement varying with the class so every layout is seen. */
const prototypes = () => LABELS.map((_, k) => renderPrototype({ colour: Math.floor(k / SHAPES.length), shape: k % SHAPES.length, placement: k % PLACEMENTS.circle.length }));

describe('labels and templates', () => {
  it('splits labels by line, or by comma on one line, dropping blanks and repeats', () => {
    expect(parseLabels('cat\n dog \n\ncat')).toEqual(['cat', 'dog']);
    expect(parseLabels('cat, dog,bird')).toEqual(['cat', 'dog', 'bird']);
    expect(parseLabels('  \n')).toEqual([]);
  });
  it('fills {} or appends the label', () => {
    expect(fillTemplate('a photo of a {}', 'red circle')).toBe('a photo of a red circle');
    expect(fillTemplate('a picture of', 'dog')).toBe('a picture of dog');
  });
});

describe('zero-shot classification on toyworld', () => {
  it('names every prototype class correctly with confidence > 0.9', async () => {
    const model = loadClipVision(path.join(MODELS, 'clip_vision/toyworld-clip'), 'toyworld-clip', host.services);
    const scores = await zeroShotScores(model, batch(prototypes()), LABELS, 'a photo of a {}');
    expect(scores.rows).toBe(LABELS.length);
    const best = bestLabels(scores);
    best.forEach((b, k) => {
      expect(b.label).toBe(LABELS[k]);
      expect(b.score).toBeGreaterThan(0.9);
    });
    // Rows are distributions over the labels.
    for (let r = 0; r < scores.rows; r++) {
      const row = scores.values.subarray(r * LABELS.length, (r + 1) * LABELS.length);
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
  });

  it('picks the right label among a few on non-square images', async () => {
    const model = loadClipVision(path.join(MODELS, 'clip_vision/toyworld-clip'), 'toyworld-clip', host.services);
    const im = renderShape({ colour: 'orange', shape: 'cross', cx: 0.5, cy: 0.45, size: 0.35, width: 320, height: 240 });
    const s = await zeroShotScores(model, batch([im]), ['orange cross', 'orange ring', 'blue cross'], 'a photo of a {}');
    expect(bestLabels(s)[0]!.label).toBe('orange cross');
  });

  it('the generic classifier agrees with zero-shot on every prototype', async () => {
    const c = loadClassifier(path.join(MODELS, 'classifiers/toyworld-shapes'), 'toyworld-shapes', host.services);
    expect(c.labels).toEqual(LABELS);
    const scores = await classifyImages(c, batch(prototypes()));
    expect(bestLabels(scores).map((b) => b.label)).toEqual(LABELS);
    expect(COLOURS.length * SHAPES.length).toBe(scores.rows);
  });
});
