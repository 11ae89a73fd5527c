import { decodeHTML } from 'entities';

// NOTE: Python's str.isspace() set (what `re` \s matches), which differs from JS \s (no U+FEFF, adds U+001C-U+001F).
const WS = '\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const WHITESPACE_RUN = new RegExp(`[${WS}]+`, 'gu');
const EDGE_WHITESPACE = new RegExp(`^[${WS}]+|[${WS}]+$`, 'gu');

/**
 * CLIP's pre-tokeniser pattern (openai/CLIP simple_tokenizer.py), case-insensitive with Unicode classes.
 * Created per call site because a global RegExp carries lastIndex state.
 */
export function clipPattern(): RegExp {
  return new RegExp(
    `<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^${WS}\\p{L}\\p{N}]+`,
    'giu',
  );
}

/**
 * CLIP text normalisation (openai basic_clean + whitespace_clean + lower): NFC (as ftfy and the HF fast
 * tokenizer apply), HTML-unescape twice, collapse whitespace, strip, lowercase.
 */
export function normalizeClipText(text: string): string {
  const unescaped = decodeHTML(decodeHTML(text.normalize('NFC')));
  return unescaped.replace(WHITESPACE_RUN, ' ').replace(EDGE_WHITESPACE, '').toLowerCase();
}

/** Splits normalised text into the pieces BPE works on. */
export function preTokenize(normalized: string): string[] {
  return normalized.match(clipPattern()) ?? [];
}
