import { BYTE_DECODER, BYTE_ENCODER } from './byte-unicode.js';
import { BytePairEncoder } from './bpe.js';
import { normalizeClipText, preTokenize } from './normalize.js';

/** Thrown for a vocabulary that lacks what a CLIP tokenizer needs, or for malformed tokenizer files. */
export class TokenizerError extends Error {
  override readonly name = 'TokenizerError';
}

export const START_OF_TEXT = '<|startoftext|>';
export const END_OF_TEXT = '<|endoftext|>';

export interface ClipTokenizerInit {
  vocab: ReadonlyMap<string, number>;
  merges: ReadonlyArray<readonly [string, string]>;
  /** Padding id: 49407 (`<|endoftext|>`, SD 1.x) or 0 (`!`, SD 2.x / openai clip.tokenize). Default: EOT. */
  padToken?: number;
  /** Context length including BOS and EOS (default 77). */
  maxLength?: number;
}

export interface TokenizeOptions {
  maxLength?: number;
  padToken?: number;
  /** Cut to maxLength keeping EOS last (default true); when false, long texts keep every token. */
  truncate?: boolean;
}

export interface TokenizedText {
  ids: number[];
  attentionMask: number[];
  /** Number of real tokens (BOS + text + EOS) before padding. */
  length: number;
}

/** CLIP's byte-level BPE tokenizer (openai/CLIP simple_tokenizer.py, HF CLIPTokenizer). */
export class ClipTokenizer {
  readonly vocab: ReadonlyMap<string, number>;
  readonly bos: number;
  readonly eos: number;
  readonly padToken: number;
  readonly maxLength: number;
  private readonly decoder = new Map<number, string>();
  private readonly bpe: BytePairEncoder;
  private readonly specials: ReadonlyMap<string, number>;

  constructor(init: ClipTokenizerInit) {
    this.vocab = init.vocab;
    const bos = init.vocab.get(START_OF_TEXT);
    const eos = init.vocab.get(END_OF_TEXT);
    if (bos === undefined || eos === undefined) throw new TokenizerError(`vocabulary lacks ${START_OF_TEXT} or ${END_OF_TEXT}`);
    this.bos = bos;
    this.eos = eos;
    this.padToken = init.padToken ?? eos;
    this.maxLength = init.maxLength ?? 77;
    if (!Number.isInteger(this.maxLength) || this.maxLength < 2) throw new TokenizerError(`maxLength ${this.maxLength} is below 2`);
    for (const [tok, id] of init.vocab) this.decoder.set(id, tok);
    this.bpe = new BytePairEncoder(init.merges);
    this.specials = new Map([[START_OF_TEXT, bos], [END_OF_TEXT, eos]]);
  }

  get vocabSize(): number {
    return this.vocab.size;
  }

  /** BPE ids of a text, without BOS/EOS. */
  encode(text: string): number[] {
    const ids: number[] = [];
    for (const piece of preTokenize(normalizeClipText(text))) {
      const special = this.specials.get(piece);
      if (special !== undefined) {
        ids.push(special);
        continue;
      }
      let encoded = '';
      for (const b of new TextEncoder().encode(piece)) encoded += BYTE_ENCODER[b];
      for (const sym of this.bpe.encodeWord(encoded)) {
        const id = this.vocab.get(sym);
        if (id === undefined) throw new TokenizerError(`BPE symbol '${sym}' is missing from the vocabulary`);
        ids.push(id);
      }
    }
    return ids;
  }

  /** `[BOS] + ids + [EOS]`, truncated to maxLength (EOS kept last) and padded with the padding id. */
  tokenize(text: string, opts: TokenizeOptions = {}): TokenizedText {
    const maxLength = opts.maxLength ?? this.maxLength;
    const pad = opts.padToken ?? this.padToken;
    let ids = [this.bos, ...this.encode(text), this.eos];
    if ((opts.truncate ?? true) && ids.length > maxLength) ids = [...ids.slice(0, maxLength - 1), this.eos];
    const length = ids.length;
    const attentionMask = ids.map(() => 1);
    while (ids.length < maxLength) {
      ids.push(pad);
      attentionMask.push(0);
    }
    return { ids, attentionMask, length };
  }

  /** tokenize over several texts; with truncate false, rows are padded to the longest. */
  tokenizeBatch(texts: readonly string[], opts: TokenizeOptions = {}): TokenizedText[] {
    const rows = texts.map((t) => this.tokenize(t, opts));
    const width = Math.max(opts.maxLength ?? this.maxLength, ...rows.map((r) => r.ids.length));
    const pad = opts.padToken ?? this.padToken;
    for (const r of rows) {
      while (r.ids.length < width) {
        r.ids.push(pad);
        r.attentionMask.push(0);
      }
    }
    return rows;
  }

  /** Text of ids: `</w>` becomes a space, bytes are UTF-8 decoded with replacement, ends are trimmed. */
  decode(ids: readonly number[], opts: { skipSpecialTokens?: boolean } = {}): string {
    const bytes: number[] = [];
    for (const id of ids) {
      if (opts.skipSpecialTokens && (id === this.bos || id === this.eos)) continue;
      const tok = this.decoder.get(id);
      if (tok === undefined) throw new TokenizerError(`id ${id} is not in the vocabulary`);
      for (const ch of tok) {
        const b = BYTE_DECODER.get(ch);
        if (b === undefined) throw new TokenizerError(`token '${tok}' has a character outside the byte alphabet`);
        bytes.push(b);
      }
    }
    return new TextDecoder('utf-8').decode(Uint8Array.from(bytes)).replaceAll('</w>', ' ').trim();
  }
}
