import { describe, expect, it } from 'vitest';
import { fastTokenizerJson, slowTokenizerFiles } from '../../toyworld/tokenizer-files.js';
import { bpe, buildVocab, bytesToUnicode, EOT, FILLER_WORDS, SOT } from '../../toyworld/vocab.js';
import { COLOURS, SHAPES } from '../../toyworld/world.js';

describe('toyworld vocabulary', () => {
  const v = buildVocab();
  const ranks = new Map(v.merges.map((m, i) => [m, i]));

  it('has CLIP layout: bytes, bytes with </w>, merges, then SOT and EOT last', () => {
    const bytes = bytesToUnicode();
    expect(v.tokens.slice(0, 256)).toEqual(bytes);
    expect(v.tokens.slice(256, 512)).toEqual(bytes.map((b) => `${b}</w>`));
    expect(v.tokens.length).toBe(512 + v.merges.length + 2);
    expect(v.tokens[v.sotId]).toBe(SOT);
    expect(v.tokens[v.eotId]).toBe(EOT);
    expect(v.eotId).toBe(v.tokens.length - 1);
    expect(new Set(v.tokens).size).toBe(v.tokens.length);
    // CLIP's byte map: "a" stays "a", space becomes U+0120.
    expect(bytes[97]).toBe('a');
    expect(bytes[32]).toBe('\u0120');
  });

  it('encodes every world word as one token and gives concept dimensions to colours and shapes only', () => {
    for (const w of [...COLOURS.map((c) => c.name), ...SHAPES, ...FILLER_WORDS]) expect(bpe(w, ranks)).toEqual([`${w}</w>`]);
    expect(v.conceptOfToken.size).toBe(COLOURS.length + SHAPES.length);
    expect(v.conceptOfToken.get(v.ids.get('red</w>') ?? -1)).toBe(0);
    expect(v.conceptOfToken.get(v.ids.get('circle</w>') ?? -1)).toBe(COLOURS.length);
    expect(v.conceptOfToken.has(v.ids.get('photo</w>') ?? -1)).toBe(false);
    // Unknown words fall back to byte symbols, all of which exist.
    expect(bpe('zebra', ranks).every((s) => v.ids.has(s))).toBe(true);
  });

  it('writes the same vocabulary to the slow files and to tokenizer.json', () => {
    const slow = slowTokenizerFiles(v);
    const vocab = JSON.parse(slow['vocab.json']);
    const lines = slow['merges.txt'].trim().split('\n');
    expect(lines[0]).toBe('#version: 0.2');
    expect(lines.slice(1)).toEqual(v.merges);
    expect(Object.keys(vocab).length).toBe(v.tokens.length);
    expect(vocab[EOT]).toBe(v.eotId);
    const fast = fastTokenizerJson(v);
    const model = fast.model;
    expect(typeof model === 'object' && model !== null && 'vocab' in model ? model.vocab : undefined).toEqual(vocab);
    expect(JSON.parse(slow['tokenizer_config.json']).model_max_length).toBe(77);
  });
});
