/**
 * The generic toyworld image classifier: one logit per (colour, shape) class, log p(colour) + log q(shape)
 * from the same position-invariant scores as the CLIP vision tower, behind ImageNet normalisation
 * (spec/toyworld.md, "Generic image classifier").
 */
import { A, GraphBuilder } from '../onnx/builder.js';
import { COLOURS, SHAPES } from '../world.js';
import { addVisionScores, INPUT_SIZE } from './vision-features.js';

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

export function buildClassifier(): Uint8Array {
  const g = new GraphBuilder('toyworld_classifier');
  g.input('input', 'float32', ['batch_size', 3, INPUT_SIZE, INPUT_SIZE]);
  const s = addVisionScores(g, 'input', IMAGENET_MEAN, IMAGENET_STD);
  const logC = g.op('LogSoftmax', [s.colourLogits], { axis: A.i(-1) });
  const logS = g.op('LogSoftmax', [s.shapeLogits], { axis: A.i(-1) });
  const both = g.op('Concat', [logC, logS], { axis: A.i(1) });
  const nIn = COLOURS.length + SHAPES.length;
  const nClass = COLOURS.length * SHAPES.length;
  const assign = new Float32Array(nIn * nClass);
  for (let c = 0; c < COLOURS.length; c++) {
    for (let s2 = 0; s2 < SHAPES.length; s2++) {
      const k = c * SHAPES.length + s2;
      assign[c * nClass + k] = 1;
      assign[(COLOURS.length + s2) * nClass + k] = 1;
    }
  }
  const logits = g.op('MatMul', [both, g.f32('class_assign', assign, [nIn, nClass])]);
  g.output('logits', logits, 'float32', ['batch_size', nClass]);
  return g.toBytes({ docString: 'toyworld shape classifier' });
}
