/**
 * The toy CLIP vocabulary in CLIP's byte-level BPE format (openai/CLIP simple_tokenizer.py): 256 byte
 * symbols, the same with "</w>", one token per merge, then <|startoftext|> and <|endoftext|>. Merges
 * are chosen so that each world word becomes a single token, and concept dimensions are assigned to
 * the colour and shape words.
 */
import { COLOURS, SHAPES } from './world.js';

export const FILLER_WORDS = ['a', 'an', 'the', 'photo', 'picture', 'of', 'on', 'with', 'background'] as const;
export const SOT = '<|startoftext|>';
export const EOT = '<|endoftext|>';
export const MAX_LENGTH = 77;

/** GPT-2 / CLIP bytes_to_unicode: printable bytes map to themselves, the rest to U+0100 onwards. */
export function bytesToUnicode(): string[] {
  const keep: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) keep.push(b);
  for (let b = 0xa1; b <= 0xac; b++) keep.push(b);
  for (let b = 0xae; b <= 0xff; b++) keep.push(b);
  const map = new Array<string>(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    if (keep.includes(b)) map[b] = String.fromCodePoint(b);
    else map[b] = String.fromCodePoint(256 + extra++);
  }
  return map;
}

/** Standard BPE on one pre-token: merge the lowest-ranked adjacent pair everywhere until none applies. */
export function bpe(word: string, ranks: ReadonlyMap<string, number>): string[] {
  const chars = [...word];
  let symbols = chars.map((ch, i) => (i === chars.length - 1 ? `${ch}</w>` : ch));
  for (;;) {
    let best = -1;
    let bestRank = Infinity;
    for (let i = 0; i + 1 < symbols.length; i++) {
      const r = ranks.get(`${symbols[i]} ${symbols[i + 1]}`);
      if (r !== undefined && r < bestRank) {
        bestRank = r;
        best = i;
      }
    }
    if (best < 0) return symbols;
    const a = symbols[best];
    const b = symbols[best + 1];
    const next: string[] = [];
    for (let i = 0; i < symbols.length; i++) {
      if (i + 1 < symbols.length && symbols[i] === a && symbols[i + 1] === b) {
        next.push(a + b);
        i++;
      } else next.push(symbols[i]);
    }
    symbols = next;
  }
}

/** Thrown if the merges would make a vocabulary with repeated tokens (HF vocab.json cannot hold them). */
export class VocabBuildError extends Error {
  override readonly name = 'VocabBuildError';
}

export interface ToyVocab {
  /** Tokens in id order. */
  tokens: string[];
  /** Merges in rank order, each "left right". */
  merges: string[];
  ids: Map<string, number>;
  /** Concept words in concept-dimension order: colours, then shapes. */
  concepts: string[];
  /** Token id -> concept dimension. */
  conceptOfToken: Map<number, number>;
  sotId: number;
  eotId: number;
}

/** Builds the vocabulary; each new word's merges rank after all earlier ones, so earlier words stay whole. */
export function buildVocab(): ToyVocab {
  const concepts = [...COLOURS.map((c) => c.name), ...SHAPES];
  const words = [...concepts, ...FILLER_WORDS];
  const merges: string[] = [];
  const ranks = new Map<string, number>();
  for (const w of words) {
    let syms = bpe(w, ranks);
    while (syms.length > 1) {
      const m = `${syms[0]} ${syms[1]}`;
      ranks.set(m, merges.length);
      merges.push(m);
      syms = bpe(w, ranks);
    }
  }
  const bytes = bytesToUnicode();
  const tokens = [...bytes, ...bytes.map((b) => `${b}</w>`), ...merges.map((m) => m.replace(' ', '')), SOT, EOT];
  const ids = new Map<string, number>();
  tokens.forEach((t, i) => {
    if (ids.has(t)) throw new VocabBuildError(`token "${t}" would appear twice in the vocabulary`);
    ids.set(t, i);
  });
  const conceptOfToken = new Map<number, number>();
  concepts.forEach((w, d) => {
    const id = ids.get(`${w}</w>`);
    if (id !== undefined) conceptOfToken.set(id, d);
  });
  return { tokens, merges, ids, concepts, conceptOfToken, sotId: tokens.length - 2, eotId: tokens.length - 1 };
}
