import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ClipTokenizer, TokenizerError, clipTokenizerFromOpenaiBpe, loadClipTokenizer, normalizeClipText, vocabAndMergesFromOpenaiBpe,
} from '../../tokenizer/index.js';
import { BPE_VOCAB_GZ } from '../fixtures/data-files.js';

const gz = readFileSync(BPE_VOCAB_GZ);
const tok = clipTokenizerFromOpenaiBpe(gz);
const vectors: { cases: { text: string; ids: number[] }[] } = JSON.parse(
  readFileSync(new URL('./fixtures/openai-simple-tokenizer-vectors.json', import.meta.url), 'utf8'),
);

const framed = (text: string): number[] => {
  const r = tok.tokenize(text);
  return r.ids.slice(0, r.length);
};

describe('ClipTokenizer with the real vocabulary', () => {
  it('builds openai vocabulary: 49408 entries, specials 49406/49407', () => {
    expect(tok.vocabSize).toBe(49408);
    expect(tok.bos).toBe(49406);
    expect(tok.eos).toBe(49407);
    expect(tok.vocab.get('!')).toBe(0);
    expect(tok.vocab.get('!</w>')).toBe(256);
  });

  it('matches the models.md test vectors', () => {
    expect(framed('a photo of a cat')).toEqual([49406, 320, 1125, 539, 320, 2368, 49407]);
    expect(framed('hello world')).toEqual([49406, 3306, 1002, 49407]);
    expect(framed('')).toEqual([49406, 49407]);
    expect(framed("don't 123")).toEqual([49406, 847, 713, 272, 273, 274, 49407]);
  });

  for (const c of vectors.cases) {
    it(`matches openai's simple tokenizer on ${JSON.stringify(c.text).slice(0, 50)}`, () => {
      expect(tok.encode(c.text)).toEqual(c.ids);
    });
  }

  it('splits numbers per digit and keeps punctuation runs together', () => {
    const digits = tok.encode('2024');
    expect(digits).toHaveLength(4);
    expect(digits).toEqual(['2', '0', '2', '4'].map((d) => tok.encode(d)[0]));
    expect(tok.decode(tok.encode('wow?!?!'))).toBe('wow ?!?!');
  });

  it('unescapes HTML entities twice, collapses whitespace and lowercases', () => {
    expect(normalizeClipText('  A&amp;amp;B\t\n&lt;Tag&gt;  ')).toBe('a&b <tag>');
    expect(tok.encode('Fish &amp; Chips')).toEqual(tok.encode('fish & chips'));
    expect(tok.encode('HELLO    World')).toEqual(tok.encode('hello world'));
  });

  it('round-trips Unicode through decode', () => {
    for (const text of ['café naïve 東京 😀', 'кошка на крыше', 'ü ß ñ']) {
      expect(tok.decode(tok.encode(text))).toBe(text);
    }
    expect(tok.decode(framed('a photo'), { skipSpecialTokens: true })).toBe('a photo');
    expect(tok.decode(framed('a photo'))).toBe('<|startoftext|>a photo <|endoftext|>');
  });

  it('truncates long text to 77 tokens ending with EOT', () => {
    const long = Array.from({ length: 120 }, (_, i) => `word${i}`).join(' ');
    const r = tok.tokenize(long);
    expect(r.ids).toHaveLength(77);
    expect(r.length).toBe(77);
    expect(r.ids[0]).toBe(49406);
    expect(r.ids[76]).toBe(49407);
    expect(r.ids.slice(1, 76)).toEqual(tok.encode(long).slice(0, 75));
    expect(r.attentionMask.every((m) => m === 1)).toBe(true);
    const untruncated = tok.tokenize(long, { truncate: false });
    expect(untruncated.ids.length).toBe(tok.encode(long).length + 2);
  });

  it('pads with EOT (SD 1.x) or 0 (SD 2.x) and masks the padding', () => {
    const sd1 = tok.tokenize('a cat');
    expect(sd1.ids).toHaveLength(77);
    expect(sd1.length).toBe(4);
    expect(sd1.ids.slice(4).every((id) => id === 49407)).toBe(true);
    expect(sd1.attentionMask.slice(0, 4)).toEqual([1, 1, 1, 1]);
    expect(sd1.attentionMask.slice(4).every((m) => m === 0)).toBe(true);
    const sd2 = tok.tokenize('a cat', { padToken: 0 });
    expect(sd2.ids.slice(0, 4)).toEqual([49406, 320, 2368, 49407]);
    expect(sd2.ids.slice(4).every((id) => id === 0)).toBe(true);
    expect(tok.tokenize('a cat', { maxLength: 8 }).ids).toEqual([49406, 320, 2368, 49407, 49407, 49407, 49407, 49407]);
  });

  it('tokenizes batches to a common width', () => {
    const rows = tok.tokenizeBatch(['a', 'a photo of a cat']);
    expect(rows.map((r) => r.ids.length)).toEqual([77, 77]);
    expect(rows.map((r) => r.length)).toEqual([3, 7]);
    const wide = tok.tokenizeBatch(['a', 'b '.repeat(100)], { truncate: false });
    expect(wide[0].ids.length).toBe(wide[1].ids.length);
  });

  it('treats the special token strings in text as specials', () => {
    expect(tok.encode('<|startoftext|>hi<|endoftext|>')).toEqual([49406, ...tok.encode('hi'), 49407]);
  });
});

describe('loadClipTokenizer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lf-tok-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const { vocab, merges } = vocabAndMergesFromOpenaiBpe(gz);
  const vocabObj = Object.fromEntries(vocab);

  it('reads HF vocab.json + merges.txt with an SD 2.x "!" pad token', () => {
    const d = join(dir, 'hf', 'tokenizer');
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'vocab.json'), JSON.stringify(vocabObj));
    writeFileSync(join(d, 'merges.txt'), `#version: 0.2\n${merges.map((m) => m.join(' ')).join('\n')}\n`);
    writeFileSync(join(d, 'special_tokens_map.json'), JSON.stringify({ pad_token: '!' }));
    writeFileSync(join(d, 'tokenizer_config.json'), JSON.stringify({ model_max_length: 77, pad_token: { content: '!' } }));
    const t = loadClipTokenizer(join(dir, 'hf'));
    expect(t.padToken).toBe(0);
    expect(t.maxLength).toBe(77);
    expect(t.tokenize('a photo of a cat').ids.slice(7, 10)).toEqual([0, 0, 0]);
    expect(t.encode("don't 123")).toEqual([847, 713, 272, 273, 274]);
  });

  it('reads tokenizer.json with string or pair merges and an <|endoftext|> pad', () => {
    for (const form of ['string', 'pair'] as const) {
      const d = join(dir, `tj-${form}`);
      mkdirSync(d, { recursive: true });
      const json = {
        model: { type: 'BPE', vocab: vocabObj, merges: form === 'string' ? merges.map((m) => m.join(' ')) : merges },
        added_tokens: [{ id: 49406, content: '<|startoftext|>' }, { id: 49407, content: '<|endoftext|>' }],
      };
      writeFileSync(join(d, 'tokenizer.json'), JSON.stringify(json));
      writeFileSync(join(d, 'tokenizer_config.json'), JSON.stringify({ model_max_length: 1e30, pad_token: '<|endoftext|>' }));
      const t = loadClipTokenizer(d);
      expect(t.padToken).toBe(49407);
      expect(t.maxLength).toBe(77);
      expect(t.encode('a photo of a cat')).toEqual([320, 1125, 539, 320, 2368]);
    }
  });

  it("reads openai's gzipped BPE file and reports missing files", () => {
    const d = join(dir, 'openai');
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'bpe_simple_vocab_16e6.txt.gz'), gz);
    expect(loadClipTokenizer(d).encode('hello world')).toEqual([3306, 1002]);
    expect(() => loadClipTokenizer(join(dir, 'nothing-here'))).toThrow(TokenizerError);
  });

  it('rejects a vocabulary without the special tokens', () => {
    expect(() => new ClipTokenizer({ vocab: new Map([['a', 0]]), merges: [] })).toThrow(TokenizerError);
  });
});
