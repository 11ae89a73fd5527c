/**
 * Text conditioning (ComfyUI nodes.py CLIPTextEncode, CLIPSetLastLayer; comfy/sd1_clip.py): prompts
 * longer than one window are split into 75-token chunks, each framed with start/end tokens, padded,
 * encoded in one batch and concatenated along the sequence.
 */
import { INT, STRING, defineNode, type NodeContext } from '../../engine/index.js';
import { Tensor } from '../runtime/tensor.js';
import { CLIP, CONDITIONING } from '../sockets.js';
import type { ClipModel, Conditioning } from './types.js';

/** Thrown when the text encoder's outputs do not fit the request. */
export class TextEncoderError extends Error {
  override readonly name = 'TextEncoderError';
}

/** The token windows ComfyUI feeds the text encoder for a prompt. */
export function tokenWindows(clip: ClipModel, text: string): number[][] {
  const tok = clip.tokenizer;
  const per = tok.maxLength - 2;
  const ids = tok.encode(text);
  const windows: number[][] = [];
  for (let o = 0; o === 0 || o < ids.length; o += per) {
    const w = [tok.bos, ...ids.slice(o, o + per), tok.eos];
    while (w.length < tok.maxLength) w.push(tok.padToken);
    windows.push(w);
  }
  return windows;
}

/** Output name of the hidden state `layer` (-1 = last) when the export carries hidden_states.N outputs. */
function hiddenStateName(names: readonly string[], layer: number): string | undefined {
  const idx = names.map((n) => /^hidden_states\.(\d+)$/.exec(n)).filter((m) => m !== null).map((m) => Number(m[1]));
  if (idx.length === 0) return undefined;
  const last = Math.max(...idx);
  const want = last + 1 + layer;
  return idx.includes(want) ? `hidden_states.${want}` : undefined;
}

export async function encodeText(clip: ClipModel, text: string, ctx?: Pick<NodeContext, 'signal' | 'log'>): Promise<Conditioning> {
  const windows = tokenWindows(clip, text);
  const k = windows.length;
  const len = clip.tokenizer.maxLength;
  const s = await clip.textEncoder.get();
  const ids = new Tensor('int32', Int32Array.from(windows.flat()), [k, len]);
  const feeds: Record<string, Tensor<'int32'>> = {};
  for (const m of s.inputs) {
    if (m.name === 'attention_mask') feeds[m.name] = new Tensor('int32', new Int32Array(k * len).fill(1), [k, len]);
    else feeds[m.name] = ids;
  }
  const outNames = s.outputs.map((o) => o.name);
  let hidden = ['last_hidden_state', 'text_embeddings'];
  if (clip.layer < -1) {
    const name = hiddenStateName(outNames, clip.layer);
    if (name) hidden = [name];
    else ctx?.log(`CLIPSetLastLayer ${clip.layer}: ${clip.name}'s text encoder exports no hidden_states.N outputs; using its last layer`);
  }
  const pooledName = ['pooler_output', 'text_embeds'].find((n) => outNames.includes(n));
  const res = await s.run(feeds, { outputs: pooledName ? [hidden, [pooledName]] : [hidden], signal: ctx?.signal });
  const h = res[hidden[0]];
  if (!h || h.dtype !== 'float32' || h.shape.length !== 3 || h.shape[0] !== k) {
    throw new TextEncoderError(`text encoder of '${clip.name}' returned ${h ? h.describe() : 'nothing'} for ${k} window(s)`);
  }
  const [, seq, dim] = h.shape;
  const embeds = new Tensor('float32', h.data, [1, k * seq, dim]);
  const p = pooledName ? res[pooledName] : undefined;
  const pooled = p && p.dtype === 'float32' ? new Tensor('float32', p.data.slice(0, p.size / k), [1, p.size / k]) : undefined;
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
