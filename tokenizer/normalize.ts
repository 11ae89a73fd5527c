import { decodeHTML } from 'entities';

/**
 * Whitespace as the `regex` module's `\s`, which openai/CLIP simple_tokenizer.py and Hugging Face's CLIPTokenizer
 * (`import regex as re`) use both to collapse whitespace and in the pre-tokeniser pattern: the Unicode White_Space
 * property (mrab-regex _regex_core.py CHARSET_ESCAPES maps `s` to the property Space, an alias of White_Space).
 * Unlike the stdlib `re` and str.isspace(), it leaves out U+001C-U+001F; unlike JS `\s`, U+FEFF.
 */
const WS = '\\t\\n\\x0b\\x0c\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const WHITESPACE_RUN = new RegExp(`[${WS}]+`, 'gu');
const EDGE_WHITESPACE = new RegExp(`^[${WS}]+|[${WS}]+$`, 'gu');

/**
 * Control characters that never reach that regex. openai's basic_clean always runs ftfy.fix_text, whose
 * remove_control_chars deletes U+0000-U+0008, U+000B, U+000E-U+001F, U+007F, U+206A-U+206F, U+FEFF and
 * U+FFF9-U+FFFC; Hugging Face's CLIPTokenizer does the same when ftfy is installed, and without it (as in a stock
 * ComfyUI) its BasicTokenizer._clean_text deletes every category C character other than tab, newline and carriage
 * return, which covers all of these but U+FFFC (a symbol, kept here). So U+001C-U+001F are neither whitespace
 * nor kept: "red\x1cball" is "redball". Python's html.unescape yields nothing for the ASCII ones written as
 * character references (its _invalid_codepoints), so deleting after unescaping covers `&#28;` as well.
 */
const DELETED_CONTROLS = /[\x00-\x08\x0b\x0e-\x1f\x7f\u206a-\u206f\ufeff\ufff9-\ufffb]/g;

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
 * tokenizer apply), HTML-unescape twice, delete control characters (as ftfy does), collapse whitespace,
 * strip, lowercase.
 */
export function normalizeClipText(text: string): string {
  const unescaped = decodeHTML(decodeHTML(text.normalize('NFC'))).replace(DELETED_CONTROLS, '');
  return unescaped.replace(WHITESPACE_RUN, ' ').replace(EDGE_WHITESPACE, '').toLowerCase();
}

/** Splits normalised text into the pieces BPE works on. */
export function preTokenize(normalized: string): string[] {
  return normalized.match(clipPattern()) ?? [];
}
