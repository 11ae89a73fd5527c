/**
 * Text encoders: the SD text encoder (diffusers layout, 768-d) and the CLIP text tower. The hidden
 * state of a token is its concept vector: one-hot over concept dimensions for colour and shape words,
 * zero for every other token (spec/toyworld.md, "Tokenizer and text encoder").
 */
import { GraphBuilder } from '../onnx/builder.js';
import type { ToyVocab } from '../vocab.js';
import { floatOutput, reduceSum, type FloatIo } from './ops.js';

export const SD_HIDDEN = 768;

/** The [vocab, width] embedding table of concept vectors. */
export function conceptTable(vocab: ToyVocab, width: number): Float32Array {
  const table = new Float32Array(vocab.tokens.length * width);
  for (const [id, dim] of vocab.conceptOfToken) table[id * width + dim] = 1;
  return table;
}

export interface SdTextEncoderOptions {
  ids: 'int32' | 'int64';
  io: FloatIo;
}

/**
 * `input_ids` [batch, sequence] -> `last_hidden_state` [batch, sequence, 768] and `pooler_output`
 * [batch, 768]. NOTE: real CLIP pools the EOT token's state; here EOT is zero, so the pooled vector
 * is the sum of the prompt's concept vectors, the toy analogue of a sentence summary.
 */
export function buildSdTextEncoder(vocab: ToyVocab, opts: SdTextEncoderOptions): Uint8Array {
  const g = new GraphBuilder('toyworld_text_encoder');
  g.input('input_ids', opts.ids, ['batch', 'sequence']);
  const table = g.f32('embeddings', conceptTable(vocab, SD_HIDDEN), [vocab.tokens.length, SD_HIDDEN]);
  const hidden = g.op('Gather', [table, 'input_ids'], {});
  floatOutput(g, 'last_hidden_state', hidden, opts.io, ['batch', 'sequence', SD_HIDDEN]);
  floatOutput(g, 'pooler_output', reduceSum(g, hidden, [1], false), opts.io, ['batch', SD_HIDDEN]);
  return g.toBytes({ docString: 'toyworld SD text encoder: concept vectors per token' });
}
