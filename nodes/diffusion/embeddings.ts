/**
 * Textual-inversion embeddings in prompts (ComfyUI comfy/sd1_clip.py `SDTokenizer._try_get_embedding`,
 * `load_embed`, `SDClipModel.process_tokens`): `embedding:name` loads models/embeddings/name(.safetensors),
 * whose vectors take one token slot each. An ONNX text encoder only takes ids, so the vectors are
 * appended as new rows of its token-embedding table (ids from the table's size on, 49408 for CLIP) and
 * the prompt gets those ids: the same sum of token and position embeddings ComfyUI computes.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { readWeightIndex } from '../../runtime/onnx-weights.js';
import { SafetensorsError, readSafetensorsHeader, type SafetensorsHeader } from '../../runtime/safetensors.js';
import type { Services } from '../../engine/index.js';
import { FOLDERS } from '../../runtime/services.js';
import type { SessionHandle } from '../../runtime/session-handle.js';
import type { RowAppend } from '../../runtime/weight-patch.js';

/** ComfyUI tries the name as given, then with these extensions; only safetensors are read (no pickles). */
const EXTENSIONS = ['', '.safetensors', '.pt', '.bin'];

/** models/embeddings (ComfyUI's "embeddings" folder), when the host provides folders. */
export function embeddingsDir(services: Services): string | undefined {
  return services.has(FOLDERS) ? path.join(services.get(FOLDERS).models, 'embeddings') : undefined;
}

/** The token-embedding table of a text encoder: the Gather initializer ids index. */
export interface TokenTable {
  readonly target: string;
  readonly rows: number;
  readonly dim: number;
}

/** The text encoder's token table: `...token_embedding.weight`, else the largest 2-D table a Gather reads. */
export function tokenTable(handle: SessionHandle): TokenTable | undefined {
  const index = readWeightIndex(handle.path);
  const named = [...index.initializers.values()].find((i) => i.name.endsWith('token_embedding.weight') && i.dims.length === 2);
  const gathered = index.nodes
    .filter((n) => n.opType === 'Gather')
    .map((n) => index.initializers.get(n.inputs[0] ?? ''))
    .filter((i) => i !== undefined && i.dims.length === 2)
    .sort((a, b) => b!.dims[0] - a!.dims[0])[0];
  const t = named ?? gathered;
  return t ? { target: t.name, rows: t.dims[0], dim: t.dims[1] } : undefined;
}

/** Resolves `name` inside `dir` as ComfyUI's load_embed does (contained in dir; extensions tried in order). */
function embeddingFile(dir: string, name: string): string | undefined {
  const root = path.resolve(dir);
  for (const ext of EXTENSIONS) {
    const file = path.resolve(root, name + ext);
    if (!file.startsWith(root + path.sep)) return undefined;
    if (existsSync(file) && statSync(file).isFile()) return file;
  }
  return undefined;
}

/** The tensor ComfyUI's load_embed takes: `string_to_param.*`, else `key` (clip_l / clip_g), else the first one stored. */
function embeddingKey(h: SafetensorsHeader, key: string): string | undefined {
  const keys = [...h.tensors.values()].sort((a, b) => a.begin - b.begin).map((t) => t.key);
  return keys.find((k) => k.startsWith('string_to_param')) ?? (h.tensors.has(key) ? key : undefined) ?? keys[0];
}

/**
 * The embeddings one prompt uses for one text tower: each name is looked up once and gets consecutive
 * ids after the table; `patch()` describes the rows to append.
 */
export class PromptEmbeddings {
  private readonly used = new Map<string, number[] | null | undefined>();
  private readonly rows: { file: string; key: string }[] = [];
  private next: number;

  constructor(
    private readonly dir: string,
    private readonly table: TokenTable,
    /** ComfyUI's embedding_key for this tower: 'clip_l' (SD 1.x, SDXL's first tower) or 'clip_g'. */
    private readonly towerKey: string,
    private readonly log?: (msg: string) => void,
  ) {
    this.next = table.rows;
  }

  /**
   * The ids standing for `name`'s vectors; undefined when there is no such file (the caller warns, once per
   * word), null when it cannot be used (warned here: a pickle, an unreadable file, vectors of another width).
   */
  ids(name: string): number[] | null | undefined {
    if (this.used.has(name)) return this.used.get(name);
    const ids = this.load(name);
    this.used.set(name, ids);
    return ids;
  }

  private load(name: string): number[] | null | undefined {
    const file = embeddingFile(this.dir, name);
    if (!file) return undefined;
    if (!file.toLowerCase().endsWith('.safetensors')) {
      this.log?.(`warning, embedding:${name} is a pickle (${path.basename(file)}), which latentflow does not read; convert it to .safetensors. Ignoring`);
      return null;
    }
    let header: SafetensorsHeader;
    try {
      header = readSafetensorsHeader(file);
    } catch (e) {
      if (!(e instanceof SafetensorsError)) throw e;
      this.log?.(`warning, embedding:${name} cannot be read (${e.message}), ignoring`);
      return null;
    }
    const key = embeddingKey(header, this.towerKey);
    const shape = key ? header.tensors.get(key)?.shape ?? [] : [];
    const dim = shape[shape.length - 1];
    if (!key || shape.length === 0 || shape.length > 2 || dim !== this.table.dim) {
      this.log?.(`warning, embedding:${name} has vectors of shape [${shape.join(', ')}], the text encoder's are ${this.table.dim} wide; ignoring`);
      return null;
    }
    const count = shape.length === 1 ? 1 : shape[0];
    this.rows.push({ file, key });
    const ids = Array.from({ length: count }, (_, i) => this.next + i);
    this.next += count;
    return ids;
  }

  /** Rows to append to the token table, or undefined when the prompt used no embedding. */
  patch(): RowAppend | undefined {
    return this.rows.length > 0 ? { target: this.table.target, rows: [...this.rows] } : undefined;
  }
}

/** The handle with the prompt's embedding rows appended to its token table (unchanged when there are none). */
export function withEmbeddings(handle: SessionHandle, embeddings: PromptEmbeddings | undefined): SessionHandle {
  const append = embeddings?.patch();
  if (!append) return handle;
  return handle.withPatch({ deltas: handle.patch?.deltas ?? [], append });
}
