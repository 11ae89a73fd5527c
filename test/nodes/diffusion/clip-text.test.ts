import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeText, tokenWindows } from '../../../nodes/diffusion/clip-text.js';
import { PromptEmbeddings } from '../../../nodes/diffusion/embeddings.js';
import { encodeSafetensors } from '../../../runtime/safetensors-write.js';
import { tempDir } from '../../fixtures/temp-dir.js';
import type { ClipModel } from '../../../sockets/index.js';
import { ModelPool } from '../../../runtime/model-pool.js';
import { clipTokenizerFromOpenaiBpe } from '../../../tokenizer/index.js';
import { BPE_VOCAB_GZ } from '../../fixtures/data-files.js';
import { checkpoint, ensureToyworld } from './helpers.js';

const tok = clipTokenizerFromOpenaiBpe(readFileSync(BPE_VOCAB_GZ));
// tokenWindows only reads the tokenizer.
const sd1 = { name: 'sd1', tokenizer: tok, layer: -1 } as unknown as ClipModel;
const ones = (n: number) => Array<number>(n).fill(1);

// Embeddings: A1111 (emb_params, 2 vectors), SDXL-style (clip_l / clip_g: the tower's key is taken), too wide, a pickle.
const embDir = tempDir('lf-emb-');
mkdirSync(embDir, { recursive: true });
writeFileSync(path.join(embDir, 'two.safetensors'), encodeSafetensors({ emb_params: { dtype: 'F32', shape: [2, 4], data: [1, 2, 3, 4, 5, 6, 7, 8] } }));
writeFileSync(path.join(embDir, 'one.safetensors'), encodeSafetensors({
  clip_g: { dtype: 'F32', shape: [1, 8], data: [0, 0, 0, 0, 0, 0, 0, 0] },
  clip_l: { dtype: 'F16', shape: [1, 4], data: [1, 1, 1, 1] },
}));
writeFileSync(path.join(embDir, 'wide.safetensors'), encodeSafetensors({ v: { dtype: 'F32', shape: [1, 8], data: [0, 0, 0, 0, 0, 0, 0, 0] } }));
writeFileSync(path.join(embDir, 'old.pt'), 'pickle');

describe('tokenWindows (ComfyUI tokenize_with_weights)', () => {
  it('frames a plain prompt as one padded window of weight 1', () => {
    const w = tokenWindows(sd1, 'a red circle');
    expect(w.ids).toEqual([tok.tokenize('a red circle').ids]);
    expect(w.weights).toEqual([ones(77)]);
  });

  it('gives weighted tokens their weight, with the same ids as the plain prompt', () => {
    const w = tokenWindows(sd1, 'a (red:1.5) ((circle))');
    expect(w.ids).toEqual([tok.tokenize('a red circle').ids]);
    expect(w.weights[0]!.slice(0, 5)).toEqual([1, 1, 1.5, 1.1 * 1.1, 1]);
    expect(w.weights[0]!.slice(5)).toEqual(ones(72));
  });

  it('moves a short group whole to the next window, padding the first', () => {
    const filler = 'a '.repeat(74);
    expect(tok.encode(filler)).toHaveLength(74);
    const group = tok.encode('red blue green');
    expect(group).toHaveLength(3);
    const w = tokenWindows(sd1, `${filler}(red blue green:1.2)`);
    expect(w.ids).toHaveLength(2);
    expect(w.ids[0]).toEqual([tok.bos, ...tok.encode(filler), tok.eos, tok.padToken]);
    expect(w.ids[1]!.slice(0, 5)).toEqual([tok.bos, ...group, tok.eos]);
    expect(w.weights[1]!.slice(0, 5)).toEqual([1, 1.2, 1.2, 1.2, 1]);
    for (const row of w.ids) expect(row).toHaveLength(77);
  });

  it('breaks a group of 8 or more tokens at the window edge', () => {
    const filler = 'a '.repeat(74);
    const group = tok.encode('b c d e f g h i j');
    expect(group).toHaveLength(9);
    const w = tokenWindows(sd1, `${filler}(b c d e f g h i j:0.8)`);
    expect(w.ids[0]).toEqual([tok.bos, ...tok.encode(filler), group[0], tok.eos]);
    expect(w.weights[0]![75]).toBe(0.8);
    expect(w.ids[1]!.slice(0, 10)).toEqual([tok.bos, ...group.slice(1), tok.eos]);
  });

  it('splits a plain long prompt every 75 tokens, as before weighting existed', () => {
    const text = 'a red circle '.repeat(40);
    const ids = tok.encode(text);
    const w = tokenWindows(sd1, text);
    expect(w.ids).toHaveLength(2);
    expect(w.ids[0]).toEqual([tok.bos, ...ids.slice(0, 75), tok.eos]);
    expect(w.ids[1]!.slice(0, 47)).toEqual([tok.bos, ...ids.slice(75), tok.eos]);
  });

  it('drops a missing embedding:name with a warning naming it, keeping the text around it (commas given back)', () => {
    const logs: string[] = [];
    const emb = new PromptEmbeddings(embDir, { target: 'table', rows: 49408, dim: 4 }, 'clip_l', (m) => logs.push(m));
    const w = tokenWindows(sd1, 'a embedding:easynegative, red circle', (m) => logs.push(m), emb);
    expect(w.ids).toEqual([tok.tokenize('a , red circle').ids]);
    expect(logs).toEqual(['warning, embedding:easynegative, does not exist, ignoring']);
    expect(emb.patch()).toBeUndefined();
  });

  it('gives an embedding one slot per vector, with new ids after the table, weights included (ComfyUI _try_get_embedding)', () => {
    const logs: string[] = [];
    const emb = new PromptEmbeddings(embDir, { target: 'table', rows: 49408, dim: 4 }, 'clip_l', (m) => logs.push(m));
    const w = tokenWindows(sd1, 'embedding:two, a (embedding:one:1.2) red\nembedding:two circle embedding:wide embedding:old', (m) => logs.push(m), emb);
    const [a, red, circle] = [tok.encode('a'), tok.encode('red'), tok.encode('circle')];
    expect(w.ids[0]!.slice(0, 10)).toEqual([tok.bos, 49408, 49409, ...tok.encode(','), ...a, 49410, ...red, 49408, 49409, ...circle]);
    expect(w.weights[0]!.slice(0, 10)).toEqual([1, 1, 1, 1, 1, 1.2, 1, 1, 1, 1]);
    expect(w.ids[0]![10]).toBe(tok.eos);
    expect(emb.patch()).toEqual({ target: 'table', rows: [{ file: path.join(embDir, 'two.safetensors'), key: 'emb_params' }, { file: path.join(embDir, 'one.safetensors'), key: 'clip_l' }] });
    expect(logs).toEqual([
      'warning, embedding:wide has vectors of shape [1, 8], the text encoder\'s are 4 wide; ignoring',
      'warning, embedding:old is a pickle (old.pt), which latentflow does not read; convert it to .safetensors. Ignoring',
    ]);
  });
});

describe('encodeText with weights (toyworld CLIP)', () => {
  let pool: ModelPool;
  let clip: ClipModel;
  beforeAll(async () => {
    await ensureToyworld();
    pool = new ModelPool();
    clip = checkpoint(pool).clip;
  });
  afterAll(() => pool.close());

  it('a weight of 1 is the plain prompt, bit for bit', async () => {
    const plain = await encodeText(clip, 'a red circle');
    const same = await encodeText(clip, 'a (red:1) circle');
    expect(same[0]!.embeds.data).toEqual(plain[0]!.embeds.data);
  });

  it('moves weighted tokens away from the empty prompt: (z - z_empty) * w + z_empty; others and pooled unchanged', async () => {
    const plain = (await encodeText(clip, 'a red circle'))[0]!;
    const empty = (await encodeText(clip, ''))[0]!;
    const weighted = (await encodeText(clip, 'a (red:1.5) circle'))[0]!;
    const dim = plain.embeds.shape[2]!;
    expect(weighted.embeds.shape).toEqual(plain.embeds.shape);
    const row = (t: Float32Array, j: number) => Array.from(t.subarray(j * dim, (j + 1) * dim));
    for (const j of [0, 1, 3, 4, 40]) {
      row(weighted.embeds.data, j).forEach((v, d) => expect(v).toBeCloseTo(row(plain.embeds.data, j)[d]!, 5));
    }
    const z = row(plain.embeds.data, 2);
    const e = row(empty.embeds.data, 2);
    const got = row(weighted.embeds.data, 2);
    let moved = 0;
    got.forEach((v, d) => {
      expect(v).toBeCloseTo((z[d]! - e[d]!) * 1.5 + e[d]!, 4);
      moved += Math.abs(v - z[d]!);
    });
    expect(moved).toBeGreaterThan(1e-3);
    Array.from(weighted.pooled!.data).forEach((v, d) => expect(v).toBeCloseTo(plain.pooled!.data[d]!, 5));
  });
});
