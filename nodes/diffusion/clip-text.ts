/**
 * Text conditioning (ComfyUI nodes.py CLIPTextEncode, CLIPSetLastLayer; comfy/sd1_clip.py): the prompt is
 * split into weighted segments, tokenized, laid into 77-token windows (a segment shorter than 8 tokens
 * is not broken across windows), encoded in one batch and concatenated along the sequence. Weighted
 * tokens are moved away from the empty prompt's embedding: z = (z - z_empty) * weight + z_empty.
 */
import { INT, STRING, defineNode, type NodeContext } from '../../engine/index.js';
import { Tensor } from '../../runtime/tensor.js';
import { parsePromptWeights } from '../../tokenizer/prompt-weights.js';
import { CLIP, CONDITIONING } from '../../sockets/index.js';
import type { ClipModel, Conditioning } from '../../sockets/index.js';

/** Thrown when the text encoder's outputs do not fit the request. */
export class TextEncoderError extends Error {
  override readonly name = 'TextEncoderError';
}

/** ComfyUI's max_word_length: a group of at least this many tokens may be split across windows. */
const LARGE_GROUP = 8;
const EMBEDDING = 'embedding:';

/** The token windows ComfyUI feeds the text encoder for a prompt, and each token's weight. */
export interface TokenWindows {
  readonly ids: number[][];
  readonly weights: number[][];
}

/**
 * Token groups of one weighted segment. ComfyUI splits a segment only where a textual-inversion
 * embedding starts. Embeddings are not supported here: `embedding:name` is dropped with a warning, as
 * ComfyUI drops one it cannot find; the text after the name (which ends at whitespace or a comma) is
 * kept, where ComfyUI would take all of it for the name.
 */
function segmentGroups(clip: ClipModel, text: string, log?: (msg: string) => void): number[][] {
  const groups: number[][] = [];
  const parts = text.split(/(?<=^|[ \n])(?=embedding:)/);
  for (let part of parts) {
    if (part.startsWith(EMBEDDING)) {
      const name = /^embedding:([^\s,]*)/.exec(part)![1];
      log?.(`embedding:${name} ignored: textual-inversion embeddings are not supported`);
      part = part.slice(EMBEDDING.length + name.length);
    }
    if (part === '') continue;
    const ids = clip.tokenizer.encode(part);
    groups.push(ids);
  }
  return groups;
}

/** ComfyUI's SDTokenizer.tokenize_with_weights, with pad_to_max_length. */
export function tokenWindows(clip: ClipModel, text: string, log?: (msg: string) => void): TokenWindows {
  const tok = clip.tokenizer;
  const max = tok.maxLength;
  const ids: number[][] = [[tok.bos]];
  const weights: number[][] = [[1]];
  let row = 0;
  const close = (pad: number) => {
    ids[row]!.push(tok.eos, ...Array<number>(pad).fill(tok.padToken));
    weights[row]!.push(1, ...Array<number>(pad).fill(1));
  };
  for (const seg of parsePromptWeights(text)) {
    for (let group of segmentGroups(clip, seg.text, log)) {
      const large = group.length >= LARGE_GROUP;
      while (group.length > 0) {
        const room = max - 1 - ids[row]!.length;
        if (group.length <= room) {
          ids[row]!.push(...group);
          weights[row]!.push(...group.map(() => seg.weight));
          break;
        }
        if (large) {
          ids[row]!.push(...group.slice(0, room));
          weights[row]!.push(...group.slice(0, room).map(() => seg.weight));
          group = group.slice(room);
          close(0);
        } else {
          close(room);
        }
        ids.push([tok.bos]);
        weights.push([1]);
        row++;
      }
    }
  }
  close(max - 1 - ids[row]!.length);
  return { ids, weights };
}

/** Output name of the hidden state `layer` (-1 = last) when the export carries hidden_states.N outputs. */
function hiddenStateName(names: readonly string[], layer: number): string | undefined {
  const idx = names.map((n) => /^hidden_states\.(\d+)$/.exec(n)).filter((m) => m !== null).map((m) => Number(m[1]));
  if (idx.length === 0) return undefined;
  const last = Math.max(...idx);
  const want = last + 1 + layer;
  return idx.includes(want) ? `hidden_states.${want}` : undefined;
}

/** `z = (z - z_empty) * weight + z_empty` in float32 arithmetic, as torch computes it. */
function applyWeights(z: Float32Array, empty: Float32Array, weights: readonly number[], dim: number): void {
  for (let j = 0; j < weights.length; j++) {
    const w = Math.fround(weights[j]!);
    if (w === 1) continue;
    for (let d = j * dim; d < (j + 1) * dim; d++) z[d] = Math.fround(Math.fround(Math.fround(z[d]! - empty[d]!) * w) + empty[d]!);
  }
}

export async function encodeText(clip: ClipModel, text: string, ctx?: Pick<NodeContext, 'signal' | 'log'>): Promise<Conditioning> {
  const { ids: windows, weights } = tokenWindows(clip, text, ctx?.log);
  const k = windows.length;
  const len = clip.tokenizer.maxLength;
  const weighted = weights.some((row) => row.some((w) => w !== 1));
  // The empty prompt's row, which weighted tokens are measured from, rides in the same batch.
  const rows = weighted ? [...windows, [clip.tokenizer.bos, clip.tokenizer.eos, ...Array<number>(len - 2).fill(clip.tokenizer.padToken)]] : windows;
  const n = rows.length;
  const s = await clip.textEncoder.get();
  const ids = new Tensor('int32', Int32Array.from(rows.flat()), [n, len]);
  const feeds: Record<string, Tensor<'int32'>> = {};
  for (const m of s.inputs) {
    if (m.name === 'attention_mask') feeds[m.name] = new Tensor('int32', new Int32Array(n * len).fill(1), [n, len]);
    else feeds[m.name] = ids;
  }
  const outNames = s.outputs.map((o) => o.name);
  let hidden = ['last_hidden_state', 'text_embeddings'];
  if (clip.layer < -1) {
    const name = hiddenStateName(outNames, clip.layer);
    if (name) hidden = [name];
    else ctx?.log(`CLIPSetLastLayer ${clip.layer}: ${clip.name}'s text encoder exports no hidden_states.N outputs; using its last layer`);
  }
  const pooledName = ['pooler_output', 'text_embeds'].find((o) => outNames.includes(o));
  const res = await s.run(feeds, { outputs: pooledName ? [hidden, [pooledName]] : [hidden], signal: ctx?.signal });
  const h = res[hidden[0]];
  if (!h || h.dtype !== 'float32' || h.shape.length !== 3 || h.shape[0] !== n || h.shape[1] !== len) {
    throw new TextEncoderError(`text encoder of '${clip.name}' returned ${h ? h.describe() : 'nothing'} for ${n} window(s) of ${len} tokens`);
  }
  const dim = h.shape[2]!;
  const plane = len * dim;
  const data = weighted ? h.data.slice(0, k * plane) : h.data;
  if (weighted) {
    const empty = h.data.subarray(k * plane, (k + 1) * plane);
    for (let r = 0; r < k; r++) applyWeights(data.subarray(r * plane, (r + 1) * plane), empty, weights[r]!, dim);
  }
  const embeds = new Tensor('float32', data, [1, k * len, dim]);
  const p = pooledName ? res[pooledName] : undefined;
  // ComfyUI keeps the first window's pooled output.
  const pooled = p && p.dtype === 'float32' ? new Tensor('float32', p.data.slice(0, p.size / n), [1, p.size / n]) : undefined;
  return [{ embeds, pooled, strength: 1 }];
}

export const CLIPTextEncode = defineNode({
  type: 'CLIPTextEncode',
  displayName: 'CLIP Text Encode (Prompt)',
  category: 'conditioning',
  version: '1.0.0',
  description: 'Encodes a text prompt using a CLIP model into an embedding that can be used to guide the diffusion model towards generating specific images.',
  inputs: {
    text: STRING({ multiline: true, dynamicPrompts: true, tooltip: 'The text to be encoded.' }),
    clip: CLIP,
  },
  outputs: { CONDITIONING },
  async run(ctx, { text, clip }) {
    return { CONDITIONING: await encodeText(clip, text, ctx) };
  },
});

export const CLIPSetLastLayer = defineNode({
  type: 'CLIPSetLastLayer',
  displayName: 'CLIP Set Last Layer',
  category: 'conditioning',
  version: '1.0.0',
  inputs: { clip: CLIP, stop_at_clip_layer: INT({ default: -1, min: -24, max: -1, step: 1 }) },
  outputs: { CLIP },
  run(_ctx, { clip, stop_at_clip_layer }) {
    return { CLIP: { ...clip, layer: stop_at_clip_layer } };
  },
});
