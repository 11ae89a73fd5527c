/**
 * Tokenizer files for the toy vocabulary: the Hugging Face "slow" CLIPTokenizer files (vocab.json,
 * merges.txt) used by diffusers folders, and the tokenizers-library tokenizer.json read by
 * Transformers.js, laid out like openai/clip-vit-base-patch32's.
 */
import { EOT, MAX_LENGTH, SOT, type ToyVocab } from './vocab.js';

/** Same regex as CLIP's simple_tokenizer.py pre-tokeniser. */
const CLIP_PATTERN = "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";

function vocabObject(v: ToyVocab): Record<string, number> {
  const out: Record<string, number> = {};
  v.tokens.forEach((t, i) => {
    out[t] = i;
  });
  return out;
}

export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

export function tokenizerConfig(): Record<string, unknown> {
  return {
    add_prefix_space: false,
    bos_token: SOT,
    clean_up_tokenization_spaces: true,
    do_lower_case: true,
    eos_token: EOT,
    errors: 'replace',
    model_max_length: MAX_LENGTH,
    pad_token: EOT,
    tokenizer_class: 'CLIPTokenizer',
    unk_token: EOT,
  };
}

/** vocab.json, merges.txt, tokenizer_config.json, special_tokens_map.json. */
export function slowTokenizerFiles(v: ToyVocab): Record<string, string> {
  return {
    'vocab.json': `${JSON.stringify(vocabObject(v))}\n`,
    'merges.txt': `#version: 0.2\n${v.merges.join('\n')}\n`,
    'tokenizer_config.json': json(tokenizerConfig()),
    'special_tokens_map.json': json({ bos_token: SOT, eos_token: EOT, pad_token: EOT, unk_token: EOT }),
  };
}

function addedToken(id: number, content: string): Record<string, unknown> {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true };
}

/** The tokenizers-library serialisation (tokenizer.json) of the same BPE. */
export function fastTokenizerJson(v: ToyVocab): Record<string, unknown> {
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [addedToken(v.sotId, SOT), addedToken(v.eotId, EOT)],
    normalizer: {
      type: 'Sequence',
      normalizers: [{ type: 'NFC' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Lowercase' }],
    },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: CLIP_PATTERN }, behavior: 'Removed', invert: true },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: {
      type: 'RobertaProcessing',
      sep: [EOT, v.eotId],
      cls: [SOT, v.sotId],
      trim_offsets: false,
      add_prefix_space: false,
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: EOT,
      continuing_subword_prefix: '',
      end_of_word_suffix: '</w>',
      fuse_unk: false,
      byte_fallback: false,
      vocab: vocabObject(v),
      merges: v.merges,
    },
  };
}
