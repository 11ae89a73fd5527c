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
import { PromptEmbeddings, embeddingsDir, tokenTable, withEmbeddings } from './embeddings.js';

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
 * Token groups of one weighted segment (ComfyUI SDTokenizer.tokenize_with_weights, _try_get_embedding): the
 * segment splits where ' embedding:' or '\nembedding:' starts (or at its start); the name is the next
 * whitespace-free word (text from a '<' or '[' in it goes back to the prompt; when the name with its commas
 * does not exist, it is tried without them and they go back to the prompt) and its vectors form one group;
 * the rest of the part is tokenized. A missing embedding is dropped with a warning naming it; without
 * `embeddings` (no folder), every one is dropped so.
 */
function segmentGroups(clip: ClipModel, text: string, log?: (msg: string) => void, embeddings?: PromptEmbeddings): number[][] {
  const groups: number[][] = [];
  const split = text.split(/ embedding:|\nembedding:/);
  const parts = [split[0]!, ...split.slice(1).map((p) => EMBEDDING + p)].filter((p) => p !== '');
  for (let part of parts) {
    if (part.startsWith(EMBEDDING)) {
      const words = part.slice(EMBEDDING.length).replace(/^\n+|\n+$/g, '').split(/\s+/).filter((w) => w !== '');
      let name = words[0] ?? '';
      let leftover = words.slice(1).join(' ');
      const cut = name.search(/[<[]/);
      if (cut > 0) {
        leftover = `${name.slice(cut)} ${leftover}`;
        name = name.slice(0, cut);
      }
      let ids = embeddings?.ids(name);
      // ComfyUI retries without commas and gives them back to the prompt, found or not.
      const stripped = name.replace(/^,+|,+$/g, '');
      if (ids === undefined && embeddings && stripped.length < name.length) {
        ids = embeddings.ids(stripped);
        leftover = `${name.slice(stripped.length)} ${leftover}`;
      }
      if (ids) groups.push(ids);
      else if (ids === undefined) log?.(embeddings ? `warning, embedding:${name} does not exist, ignoring` : `embedding:${name} ignored: no embeddings folder to look it up in`);
      part = leftover;
    }
    if (part === '') continue;
    const ids = clip.tokenizer.encode(part);
    groups.push(ids);
  }
  return groups;
}

/** ComfyUI's SDTokenizer.tokenize_with_weights, with pad_to_max_length. */
export function tokenWindows(clip: ClipModel, text: string, log?: (msg: string) => void, embeddings?: PromptEmbeddings): TokenWindows {
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
    for (let group of segmentGroups(clip, seg.text, log, embeddings)) {
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

/** Indexes of the `hidden_states.N` outputs an export carries (optimum exports them for SDXL's encoders). */
function hiddenStateIndexes(names: readonly string[]): number[] {
  return names.map((n) => /^hidden_states\.(\d+)$/.exec(n)).filter((m) => m !== null).map((m) => Number(m[1]));
}

/** Output name of the hidden state `layer` (-1 = last) when the export carries hidden_states.N outputs. */
function hiddenStateName(names: readonly string[], layer: number): string | undefined {
  const idx = hiddenStateIndexes(names);
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

/** What to read from a text tower. */
export interface TowerRead {
  /**
   * 'exported': -1 is last_hidden_state, lower layers hidden_states.N when exported (SD 1.x/2.x). 'hidden':
   * hidden_states.N without the final layer norm, required (ComfyUI layer="hidden", layer_norm_hidden_state=False,
   * as SDXL's towers are read).
   */
  readonly mode: 'exported' | 'hidden';
  readonly layer: number;
  /** Pooled outputs in order of preference; the first exported one is returned. */
  readonly pooled: readonly string[];
  /** The pooled output must exist (SDXL's clip_g `text_embeds`). */
  readonly pooledRequired?: boolean;
}

/** One tower's encoding of token windows: [1, windows x len, dim] and the first window's pooled vector. */
export interface TowerOutput {
  readonly embeds: Tensor<'float32'>;
  readonly pooled?: Tensor<'float32'>;
}

/** Runs a text tower on token windows (plus the empty prompt when weights need it) and applies the weights. */
export async function encodeTower(
  clip: Pick<ClipModel, 'name' | 'textEncoder' | 'tokenizer'>,
  { ids: windows, weights }: TokenWindows,
  read: TowerRead,
  ctx?: Pick<NodeContext, 'signal' | 'log'>,
): Promise<TowerOutput> {
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
  if (read.mode === 'hidden') {
    const name = hiddenStateName(outNames, read.layer);
    if (!name) {
      const idx = hiddenStateIndexes(outNames);
      throw new TextEncoderError(
        idx.length === 0
          ? `text encoder of '${clip.name}' exports no hidden_states.N outputs (only ${outNames.join(', ')}); SDXL needs the penultimate layer: re-export with output_hidden_states (optimum does for SDXL)`
          : `text encoder of '${clip.name}' has hidden_states.0..${Math.max(...idx)}; layer ${read.layer} is not among them`,
      );
    }
    hidden = [name];
  } else if (read.layer < -1) {
    const name = hiddenStateName(outNames, read.layer);
    if (name) hidden = [name];
    else ctx?.log(`CLIPSetLastLayer ${read.layer}: ${clip.name}'s text encoder exports no hidden_states.N outputs; using its last layer`);
  }
  const pooledName = read.pooled.find((o) => outNames.includes(o));
  if (!pooledName && read.pooledRequired) {
    throw new TextEncoderError(`text encoder of '${clip.name}' has no ${read.pooled.join(' / ')} output (outputs: ${outNames.join(', ')}), which SDXL's pooled conditioning needs`);
  }
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
  return { embeds, pooled };
}

/** Embeddings for one tower when the prompt names any and a folder is given (the table is read only then). */
function promptEmbeddings(tower: Pick<ClipModel, 'textEncoder'>, texts: readonly string[], dir: string | undefined, key: string, log?: (msg: string) => void): PromptEmbeddings | undefined {
  if (dir === undefined || !texts.some((t) => t.includes(EMBEDDING))) return undefined;
  const table = tokenTable(tower.textEncoder);
  if (!table) {
    log?.(`embeddings ignored: the text encoder ${tower.textEncoder.path} has no token-embedding table to extend`);
    return undefined;
  }
  return new PromptEmbeddings(dir, table, key, log);
}

/** `tower` reading `embeddings`' vectors under their new ids. */
function withVectors<T extends Pick<ClipModel, 'textEncoder'>>(tower: T, embeddings: PromptEmbeddings | undefined): T {
  return embeddings ? { ...tower, textEncoder: withEmbeddings(tower.textEncoder, embeddings) } : tower;
}

/** `embeddingsDir`: models/embeddings, where `embedding:name` is looked up (absent: such names are dropped). */
export async function encodeText(clip: ClipModel, text: string, ctx?: Pick<NodeContext, 'signal' | 'log'>, embeddingsDir?: string): Promise<Conditioning> {
  if (clip.sdxl) return encodeSdxlText(clip, text, text, ctx, embeddingsDir);
  const emb = promptEmbeddings(clip, [text], embeddingsDir, 'clip_l', ctx?.log);
  const windows = tokenWindows(clip, text, ctx?.log, emb);
  const out = await encodeTower(withVectors(clip, emb), windows, { mode: 'exported', layer: clip.layer, pooled: ['pooler_output', 'text_embeds'] }, ctx);
  return [{ embeds: out.embeds, pooled: out.pooled, strength: 1 }];
}

/** Appends empty-prompt windows to the shorter side until both have as many (ComfyUI CLIPTextEncodeSDXL). */
function padWindows(a: TokenWindows, emptyA: TokenWindows, to: number): TokenWindows {
  const ids = [...a.ids];
  const weights = [...a.weights];
  while (ids.length < to) {
    ids.push(...emptyA.ids);
    weights.push(...emptyA.weights);
  }
  return { ids, weights };
}

/**
 * SDXL text conditioning (ComfyUI comfy/sdxl_clip.py SDXLClipModel.encode_token_weights, SDXLRefinerClipModel;
 * comfy_extras/nodes_clip_sdxl.py): clip_g tokenizes `textG`, clip_l `textL` (the same text for CLIPTextEncode),
 * the shorter side padded with empty-prompt windows; both towers read at CLIPSetLastLayer's layer (-2 by
 * default) without the final layer norm, concatenated [clip_l, clip_g] on the channel axis (cut to the shorter
 * sequence); the pooled output is clip_g's projected `text_embeds`. The refiner has clip_g alone.
 */
export async function encodeSdxlText(clip: ClipModel, textG: string, textL: string, ctx?: Pick<NodeContext, 'signal' | 'log'>, embeddingsDir?: string): Promise<Conditioning> {
  const readG: TowerRead = { mode: 'hidden', layer: clip.layer, pooled: ['text_embeds'], pooledRequired: true };
  if (clip.sdxl === 'refiner' || !clip.clipG) {
    const emb = promptEmbeddings(clip, [textG], embeddingsDir, 'clip_g', ctx?.log);
    const windows = tokenWindows(clip, textG, ctx?.log, emb);
    const g = await encodeTower(withVectors(clip, emb), windows, readG, ctx);
    return [{ embeds: g.embeds, pooled: g.pooled, strength: 1 }];
  }
  const gBase: ClipModel = { ...clip, textEncoder: clip.clipG.textEncoder, tokenizer: clip.clipG.tokenizer, name: `${clip.name} (text_encoder_2)` };
  const embG = promptEmbeddings(gBase, [textG], embeddingsDir, 'clip_g', ctx?.log);
  // Each tower warns about the embeddings it cannot use, as ComfyUI's two SDXL tokenizers do.
  const embL = promptEmbeddings(clip, [textL], embeddingsDir, 'clip_l', ctx?.log);
  let tg = tokenWindows(gBase, textG, ctx?.log, embG);
  let tl = tokenWindows(clip, textL, ctx?.log, embL);
  // After tokenizing: the ids the embeddings got decide the rows to append.
  const gClip = withVectors(gBase, embG);
  if (tg.ids.length !== tl.ids.length) {
    const n = Math.max(tg.ids.length, tl.ids.length);
    tg = padWindows(tg, tokenWindows(gClip, ''), n);
    tl = padWindows(tl, tokenWindows(clip, ''), n);
  }
  const [l, g] = await Promise.all([
    encodeTower(withVectors(clip, embL), tl, { mode: 'hidden', layer: clip.layer, pooled: [] }, ctx),
    encodeTower(gClip, tg, readG, ctx),
  ]);
  return [{ embeds: concatChannels(l.embeds, g.embeds), pooled: g.pooled, strength: 1 }];
}

/** torch.cat([l[..., :cut, :], g[..., :cut, :]], dim=-1) for [1, seq, d] tensors. */
function concatChannels(l: Tensor<'float32'>, g: Tensor<'float32'>): Tensor<'float32'> {
  const seq = Math.min(l.shape[1]!, g.shape[1]!);
  const dl = l.shape[2]!;
  const dg = g.shape[2]!;
  const out = new Float32Array(seq * (dl + dg));
  for (let t = 0; t < seq; t++) {
    out.set(l.data.subarray(t * dl, (t + 1) * dl), t * (dl + dg));
    out.set(g.data.subarray(t * dg, (t + 1) * dg), t * (dl + dg) + dl);
  }
  return new Tensor('float32', out, [1, seq, dl + dg]);
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
    return { CONDITIONING: await encodeText(clip, text, ctx, embeddingsDir(ctx.services)) };
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
