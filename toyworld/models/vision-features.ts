/**
 * Position-invariant colour and shape scores of an image (spec/toyworld.md, "CLIP"): colour from palette
 * membership averaged over foreground pixels; shape from matched filters of the foreground mask (+1
 * inside, -1 outside each template, at many sizes) followed by a global max-pool. The image is
 * average-pooled 4x first (224 -> 56), and large templates run on a further 2x pooled mask, so the
 * convolutions stay cheap.
 */
import { A, GraphBuilder } from '../onnx/builder.js';
import { BACKGROUND, COLOURS, SHAPES, shapeCoverage } from '../world.js';
import { reduceSum, scalar } from './ops.js';

export const INPUT_SIZE = 224;
const POOL = 4;
const GRID = INPUT_SIZE / POOL;
/** NOTE: squared sRGB distance (0..1 units) at which palette membership falls by e; palette colours are >= 0.1 apart. */
const MEMBER_TEMP = 0.01;
/** Gains turning colour fractions and matched-filter scores into softmax logits. */
export const COLOUR_GAIN = 12;
export const SHAPE_GAIN = 30;
/** Template widths in grid pixels: 18% to 65% of the frame, 7% apart. */
const MIN_WIDTH = 0.18 * GRID;
const MAX_WIDTH = 0.65 * GRID;
const WIDTH_RATIO = 1.07;
const COARSE_FROM = 20;

export function templateWidths(): number[] {
  const out: number[] = [];
  for (let w = MIN_WIDTH; w <= MAX_WIDTH * 1.0001; w *= WIDTH_RATIO) out.push(w);
  return out;
}

/** Matched-filter bank at one width: [shapes, 1, k, k], weights (2 coverage - 1) / inside area. */
function templateBank(width: number): { k: number; weights: Float32Array } {
  const k = 2 * Math.ceil(width / 2 + 2) + 1;
  const weights = new Float32Array(SHAPES.length * k * k);
  SHAPES.forEach((shape, s) => {
    const cov = shapeCoverage(shape, { cx: 0.5, cy: 0.5, size: width / k }, k, k);
    let area = 0;
    for (const c of cov) area += c;
    for (let i = 0; i < cov.length; i++) weights[s * k * k + i] = (2 * cov[i] - 1) / area;
  });
  return { k, weights };
}

export interface VisionScores {
  /** Softmaxed colour scores [b, colours]. */
  colourProbs: string;
  /** Softmaxed shape scores [b, shapes]. */
  shapeProbs: string;
  colourLogits: string;
  shapeLogits: string;
}

/** Adds the feature subgraph for `pixels` [b,3,224,224] normalised with `mean`/`std`. */
export function addVisionScores(g: GraphBuilder, pixels: string, mean: readonly number[], std: readonly number[]): VisionScores {
  const rgb = g.op('Add', [g.op('Mul', [pixels, g.f32('std', std, [1, 3, 1, 1])]), g.f32('mean', mean, [1, 3, 1, 1])]);
  const small = g.op('AveragePool', [rgb], { kernel_shape: A.ints([POOL, POOL]), strides: A.ints([POOL, POOL]) });

  const palette = [...COLOURS.map((c) => c.rgb), BACKGROUND].flatMap((c) => c.map((v) => v / 255));
  const nPal = COLOURS.length + 1;
  const diff = g.op('Sub', [g.op('Unsqueeze', [small, g.i64('axis', [1])]), g.f32('palette', palette, [1, nPal, 3, 1, 1])]);
  const d2 = g.op('ReduceSumSquare', [diff], { axes: A.ints([2]), keepdims: A.i(0) });
  const member = g.op('Softmax', [g.op('Mul', [d2, scalar(g, -1 / MEMBER_TEMP)])], { axis: A.i(1) });
  const [colourMember, bgMember] = g.node('Split', [member, g.i64('split', [COLOURS.length, 1])], { axis: A.i(1) }, 2);
  const fg = g.op('Sub', [scalar(g, 1), bgMember]);

  const colourMass = reduceSum(g, colourMember, [2, 3], false);
  const fgMass = g.op('Add', [reduceSum(g, fg, [2, 3], false), scalar(g, 1e-3)]);
  const colourLogits = g.op('Mul', [g.op('Div', [colourMass, fgMass]), scalar(g, COLOUR_GAIN)]);

  // NOTE: templates wider than COARSE_FROM run on a 2x coarser mask at half width: the relative
  // precision is the same as for the small ones and the convolutions cost 16x less.
  const coarse = g.op('AveragePool', [fg], { kernel_shape: A.ints([2, 2]), strides: A.ints([2, 2]) });
  const perWidth = templateWidths().map((w) => {
    const onCoarse = w >= COARSE_FROM;
    const { k, weights } = templateBank(onCoarse ? w / 2 : w);
    const p = (k - 1) / 2;
    const resp = g.op('Conv', [onCoarse ? coarse : fg, g.f32('templates', weights, [SHAPES.length, 1, k, k])], {
      kernel_shape: A.ints([k, k]),
      pads: A.ints([p, p, p, p]),
    });
    return g.op('ReduceMax', [resp], { axes: A.ints([2, 3]), keepdims: A.i(0) });
  });
  const shapeScore = g.op('Max', perWidth);
  const shapeLogits = g.op('Mul', [shapeScore, scalar(g, SHAPE_GAIN)]);
  return {
    colourLogits,
    shapeLogits,
    colourProbs: g.op('Softmax', [colourLogits], { axis: A.i(-1) }),
    shapeProbs: g.op('Softmax', [shapeLogits], { axis: A.i(-1) }),
  };
}
