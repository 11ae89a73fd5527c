/**
 * The toyworld CLIP in the Xenova / Transformers.js export layout: text_model.onnx, vision_model.onnx and
 * model.onnx (spec/toyworld.md, "CLIP"). Text and image embeddings live in the same concept space:
 * text = sum of token concept vectors, image = colour and shape probabilities on the same dimensions.
 */
import { A, GraphBuilder } from '../onnx/builder.js';
import { COLOURS, SHAPES } from '../world.js';
import type { ToyVocab } from '../vocab.js';
import { cast, l2Normalize, reduceSum, scalar } from './ops.js';
import { conceptTable } from './text-encoder.js';
import { addVisionScores, INPUT_SIZE } from './vision-features.js';

export const CLIP_DIM = 512;
export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711] as const;
/** NOTE: CLIP's learned temperature, ln(100): logits = 100 * cosine. */
export const LOGIT_SCALE = Math.log(100);

function textHidden(g: GraphBuilder, vocab: ToyVocab, ids: string): string {
  const table = g.f32('token_embedding', conceptTable(vocab, CLIP_DIM), [vocab.tokens.length, CLIP_DIM]);
  return g.op('Gather', [table, ids], { axis: A.i(0) });
}

function imageEmbeds(g: GraphBuilder, pixels: string): string {
  const scores = addVisionScores(g, pixels, CLIP_MEAN, CLIP_STD);
  const features = g.op('Concat', [scores.colourProbs, scores.shapeProbs], { axis: A.i(1) });
  const nConcepts = COLOURS.length + SHAPES.length;
  const proj = new Float32Array(nConcepts * CLIP_DIM);
  for (let d = 0; d < nConcepts; d++) proj[d * CLIP_DIM + d] = 1;
  return g.op('MatMul', [features, g.f32('visual_projection', proj, [nConcepts, CLIP_DIM])]);
}

/** `input_ids` int64 -> unnormalised `text_embeds` [b, 512] and `last_hidden_state` [b, seq, 512]. */
export function buildClipText(vocab: ToyVocab): Uint8Array {
  const g = new GraphBuilder('toyworld_clip_text');
  g.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  const hidden = textHidden(g, vocab, 'input_ids');
  g.output('text_embeds', reduceSum(g, hidden, [1], false), 'float32', ['batch_size', CLIP_DIM]);
  g.output('last_hidden_state', hidden, 'float32', ['batch_size', 'sequence_length', CLIP_DIM]);
  return g.toBytes({ docString: 'toyworld CLIP text model' });
}

/** `pixel_values` [b,3,224,224] -> unnormalised `image_embeds` [b, 512]. */
export function buildClipVision(): Uint8Array {
  const g = new GraphBuilder('toyworld_clip_vision');
  g.input('pixel_values', 'float32', ['batch_size', 3, INPUT_SIZE, INPUT_SIZE]);
  g.output('image_embeds', imageEmbeds(g, 'pixel_values'), 'float32', ['batch_size', CLIP_DIM]);
  return g.toBytes({ docString: 'toyworld CLIP vision model' });
}

/** The joint model: normalised embeddings and logits = exp(logit_scale) * cosine. */
export function buildClipModel(vocab: ToyVocab): Uint8Array {
  const g = new GraphBuilder('toyworld_clip');
  g.input('input_ids', 'int64', ['text_batch_size', 'sequence_length']);
  g.input('attention_mask', 'int64', ['text_batch_size', 'sequence_length']);
  g.input('pixel_values', 'float32', ['image_batch_size', 3, INPUT_SIZE, INPUT_SIZE]);
  const hidden = textHidden(g, vocab, 'input_ids');
  const mask = g.op('Unsqueeze', [cast(g, 'attention_mask', 'float32'), g.i64('axis', [2])]);
  const text = l2Normalize(g, reduceSum(g, g.op('Mul', [hidden, mask]), [1], false));
  const image = l2Normalize(g, imageEmbeds(g, 'pixel_values'));
  const cos = g.op('MatMul', [text, g.op('Transpose', [image], { perm: A.ints([1, 0]) })]);
  const logitsPerText = g.op('Mul', [cos, scalar(g, Math.exp(LOGIT_SCALE))]);
  g.output('logits_per_image', g.op('Transpose', [logitsPerText], { perm: A.ints([1, 0]) }), 'float32', ['image_batch_size', 'text_batch_size']);
  g.output('logits_per_text', logitsPerText, 'float32', ['text_batch_size', 'image_batch_size']);
  g.output('text_embeds', text, 'float32', ['text_batch_size', CLIP_DIM]);
  g.output('image_embeds', image, 'float32', ['image_batch_size', CLIP_DIM]);
  return g.toBytes({ docString: 'toyworld CLIP model' });
}
