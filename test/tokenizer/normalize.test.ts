import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { clipTokenizerFromOpenaiBpe, normalizeClipText, preTokenize } from '../../tokenizer/index.js';
import { BPE_VOCAB_GZ } from '../fixtures/data-files.js';

const tok = clipTokenizerFromOpenaiBpe(readFileSync(BPE_VOCAB_GZ));

describe('normalizeClipText: whitespace and control characters as the Python tokenizers see them', () => {
  it('deletes U+001C-U+001F (ftfy / BasicTokenizer) instead of treating them as whitespace (str.isspace, stdlib re)', () => {
    for (const c of ['\x1c', '\x1d', '\x1e', '\x1f']) {
      expect(normalizeClipText(`red${c}ball`)).toBe('redball');
      expect(normalizeClipText(`${c} Red  Ball ${c}`)).toBe('red ball');
      expect(tok.encode(`red${c}ball`)).toEqual(tok.encode('redball'));
      expect(tok.encode(`red${c}ball`)).not.toEqual(tok.encode('red ball'));
    }
  });

  it('deletes the other control characters ftfy removes, also when written as character references', () => {
    expect(normalizeClipText('a\x00\x07\x0b\x0e\x7fb')).toBe('ab');
    expect(normalizeClipText('a\u206a\ufeff\ufff9b')).toBe('ab');
    expect(normalizeClipText('a&#28;b&#x1F;c')).toBe('abc');
  });

  it('collapses the Unicode White_Space characters (the regex module\'s \\s), form feed and NEL included', () => {
    expect(normalizeClipText('a\t\n\x0c\r\x85\xa0\u1680\u2003\u2028\u2029\u202f\u205f\u3000b')).toBe('a b');
    expect(preTokenize(normalizeClipText('a\x0cb'))).toEqual(['a', 'b']);
  });

  it('keeps characters outside both sets as text: U+200B is a punctuation piece, not a word break', () => {
    expect(normalizeClipText('a\u200bb')).toBe('a\u200bb');
    expect(preTokenize('a\u200bb')).toEqual(['a', '\u200b', 'b']);
  });
});
