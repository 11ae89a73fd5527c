/**
 * toyworld-xl's models (spec/toyworld.md, "toyworld-xl"; signatures of optimum's SDXL export): two text towers
 * with `hidden_states.N` outputs and the text-and-time prior of the analytic U-Net. The prompt's colour rides on
 * the penultimate hidden states (the last layer and `last_hidden_state` carry the negated concepts, so reading
 * the wrong layer asks for other colours), the shape on clip_g's pooled `text_embeds` alone, and the placement
 * on `time_ids`: the crop moves the preferred centre (SDXL's crop_coords_top_left: cropping from the left moves
 * the object left).
 */
import { A, GraphBuilder } from '../onnx/builder.js';
import type { ToyVocab } from '../vocab.js';
import { BETA } from '../latents.js';
import { COLOURS, PLACEMENTS, SHAPES, prototypeIds } from '../world.js';
import { conceptTable } from './text-encoder.js';
import { floatInput, floatOutput, reduceSum, scalar, type FloatIo } from './ops.js';

/** SDXL's real widths: CLIP-L 768, OpenCLIP bigG 1280 (concatenated 2048). */
export const XL_L_HIDDEN = 768;
export const XL_G_HIDDEN = 1280;
/** hidden_states.0 (embeddings) .. hidden_states.LAYERS (last layer). */
export const XL_LAYERS = 2;
/** NOTE: gain of the placement prior: a centre 0.3 away from the crop's preferred centre loses 0.09 x 60 = 5.4 nats. */
export const PLACEMENT_GAIN = 60;

/**
 * A text tower: `input_ids` -> hidden_states.0..LAYERS, `last_hidden_state` (the last layer "after the final
 * layer norm") and a pooled output: `pooler_output` for clip_l, projected `text_embeds` for clip_g (both the sum of
 * the prompt's concept vectors, as toyworld's SD encoder pools).
 */
export function buildXlTextEncoder(vocab: ToyVocab, tower: 'l' | 'g', io: FloatIo = 'float32'): Uint8Array {
  const width = tower === 'l' ? XL_L_HIDDEN : XL_G_HIDDEN;
  const g = new GraphBuilder(`toyworld_xl_text_encoder_${tower}`);
  g.input('input_ids', 'int64', ['batch', 'sequence']);
  const table = g.f32('embeddings', conceptTable(vocab, width), [vocab.tokens.length, width]);
  const concepts = g.op('Gather', [table, 'input_ids'], {});
  const negated = g.op('Neg', [concepts]);
  const dims = ['batch', 'sequence', width];
  if (tower === 'g') floatOutput(g, 'text_embeds', reduceSum(g, concepts, [1], false), io, ['batch', width]);
  floatOutput(g, 'last_hidden_state', g.op('Identity', [negated]), io, dims);
  if (tower === 'l') floatOutput(g, 'pooler_output', reduceSum(g, concepts, [1], false), io, ['batch', width]);
  for (let n = 0; n <= XL_LAYERS; n++) floatOutput(g, `hidden_states.${n}`, g.op('Identity', [n === XL_LAYERS ? negated : concepts]), io, dims);
  return g.toBytes({ docString: `toyworld-xl text encoder ${tower === 'l' ? '(CLIP-L role)' : '(OpenCLIP bigG role, projected text_embeds)'}: concept vectors, negated on the last layer` });
}

export interface XlConditioning {
  /** Cross-attention width: 2048 (base: [clip_l, clip_g]) or 1280 (refiner: clip_g). */
  readonly context: number;
  /** time_ids per row: 6 (base) or 5 (refiner, with the aesthetic score). */
  readonly timeIds: 5 | 6;
}

/** Colour prior [context, K]: BETA / towers on each tower's colour dimensions. */
function colourMatrix(context: number): Float32Array {
  const ids = prototypeIds();
  const K = ids.length;
  const offsets = context === XL_L_HIDDEN + XL_G_HIDDEN ? [0, XL_L_HIDDEN] : [0];
  const m = new Float32Array(context * K);
  ids.forEach((id, k) => {
    for (const o of offsets) m[(o + id.colour) * K + k] = BETA / offsets.length;
  });
  return m;
}

/** Shape prior [1280, K]: BETA on the shape dimension of each prototype. */
function shapeMatrix(): Float32Array {
  const ids = prototypeIds();
  const K = ids.length;
  const m = new Float32Array(XL_G_HIDDEN * K);
  ids.forEach((id, k) => {
    m[(COLOURS.length + id.shape) * K + k] = BETA;
  });
  return m;
}

/**
 * Declares encoder_hidden_states, text_embeds and time_ids and returns the log prior over prototypes [B, K]:
 * colour from the summed hidden states, shape from text_embeds, placement from the crop in time_ids
 * (preferred centre 0.5 - crop / size on each axis).
 */
export function xlLogPrior(g: GraphBuilder, io: FloatIo, c: XlConditioning): string {
  const ids = prototypeIds();
  const K = ids.length;
  const hidden = floatInput(g, 'encoder_hidden_states', io, ['batch', 'sequence', c.context]);
  const pooled = floatInput(g, 'text_embeds', io, ['batch', XL_G_HIDDEN]);
  const time = floatInput(g, 'time_ids', io, ['batch', c.timeIds]);
  const colour = g.op('MatMul', [reduceSum(g, hidden, [1], false), g.f32('colour_prior', colourMatrix(c.context), [c.context, K])]);
  const shape = g.op('MatMul', [pooled, g.f32('shape_prior', shapeMatrix(), [XL_G_HIDDEN, K])]);
  const col = (i: number) => g.op('Slice', [time, g.i64('start', [i]), g.i64('end', [i + 1]), g.i64('axis', [1])]);
  // [height, width, crop_h, crop_w, ...]: the preferred centre moves against the crop.
  const centre = (crop: string, size: string) => g.op('Sub', [scalar(g, 0.5), g.op('Div', [crop, g.op('Max', [size, scalar(g, 1)])])]);
  const ty = centre(col(2), col(0));
  const tx = centre(col(3), col(1));
  const cx = g.f32('centre_x', ids.map((id) => PLACEMENTS[SHAPES[id.shape]][id.placement].cx), [1, K]);
  const cy = g.f32('centre_y', ids.map((id) => PLACEMENTS[SHAPES[id.shape]][id.placement].cy), [1, K]);
  const sq = (a: string, b: string) => {
    const d = g.op('Sub', [a, b]);
    return g.op('Mul', [d, d]);
  };
  const place = g.op('Mul', [g.op('Add', [sq(cx, tx), sq(cy, ty)]), scalar(g, -PLACEMENT_GAIN)]);
  const logits = g.op('Add', [g.op('Add', [colour, shape]), place]);
  return g.op('LogSoftmax', [logits], { axis: A.i(-1) });
}
