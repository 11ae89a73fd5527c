import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { BYTE_SYMBOLS } from './byte-unicode.js';
import { ClipTokenizer, END_OF_TEXT, START_OF_TEXT, TokenizerError } from './clip-tokenizer.js';

type Merge = readonly [string, string];

function parseMergeLine(line: string): Merge | null {
  const parts = line.trim().split(/ +/);
  if (parts.length !== 2 || parts[0] === '') return null;
  return [parts[0], parts[1]];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Vocabulary and merges from HF slow-tokenizer files (`vocab.json` object, `merges.txt` text). */
export function vocabAndMergesFromHf(vocabJson: unknown, mergesTxt: string): { vocab: Map<string, number>; merges: Merge[] } {
  if (!isRecord(vocabJson)) throw new TokenizerError('vocab.json is not an object of token -> id');
  const vocab = new Map<string, number>();
  for (const [tok, id] of Object.entries(vocabJson)) {
    if (typeof id !== 'number' || !Number.isInteger(id)) throw new TokenizerError(`vocab.json: id of '${tok}' is not an integer`);
    vocab.set(tok, id);
  }
  const merges: Merge[] = [];
  for (const line of mergesTxt.split(/\r?\n/)) {
    if (line.startsWith('#version') || line.trim() === '') continue;
    const m = parseMergeLine(line);
    if (!m) throw new TokenizerError(`merges.txt: malformed line '${line}'`);
    merges.push(m);
  }
  return { vocab, merges };
}

/** Vocabulary and merges from a tokenizers-library `tokenizer.json` (BPE model; merges as "a b" or ["a", "b"]). */
export function vocabAndMergesFromTokenizerJson(json: unknown): { vocab: Map<string, number>; merges: Merge[] } {
  if (!isRecord(json) || !isRecord(json.model)) throw new TokenizerError('tokenizer.json has no model object');
  const model = json.model;
  if (model.type !== undefined && model.type !== 'BPE') throw new TokenizerError(`tokenizer.json model type '${String(model.type)}' is not BPE`);
  const { vocab } = vocabAndMergesFromHf(model.vocab, '');
  if (Array.isArray(json.added_tokens)) {
    for (const t of json.added_tokens) {
      if (isRecord(t) && typeof t.content === 'string' && typeof t.id === 'number') vocab.set(t.content, t.id);
    }
  }
  if (!Array.isArray(model.merges)) throw new TokenizerError('tokenizer.json model has no merges list');
  const merges: Merge[] = model.merges.map((m: unknown): Merge => {
    if (typeof m === 'string') {
      const parsed = parseMergeLine(m);
      if (parsed) return parsed;
    } else if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string') {
      return [m[0], m[1]];
    }
    throw new TokenizerError(`tokenizer.json: malformed merge ${JSON.stringify(m)}`);
  });
  return { vocab, merges };
}

// NOTE: openai's file holds 262,144 - 256 - 2 merge lines after its header; CLIP uses the first 48,894.
const OPENAI_MERGE_COUNT = 49152 - 256 - 2;

/** Vocabulary and merges from openai's `bpe_simple_vocab_16e6.txt.gz`, built as openai/CLIP does. */
export function vocabAndMergesFromOpenaiBpe(gz: Uint8Array): { vocab: Map<string, number>; merges: Merge[] } {
  const lines = gunzipSync(gz).toString('utf8').split('\n');
  const merges: Merge[] = [];
  for (const line of lines.slice(1, 1 + OPENAI_MERGE_COUNT)) {
    const m = parseMergeLine(line);
    if (!m) throw new TokenizerError(`bpe vocabulary: malformed merge line '${line}'`);
    merges.push(m);
  }
  if (merges.length !== OPENAI_MERGE_COUNT) throw new TokenizerError(`bpe vocabulary has ${merges.length} merges, expected ${OPENAI_MERGE_COUNT}`);
  const tokens = [...BYTE_SYMBOLS, ...BYTE_SYMBOLS.map((s) => `${s}</w>`), ...merges.map(([a, b]) => a + b), START_OF_TEXT, END_OF_TEXT];
  return { vocab: new Map(tokens.map((t, i) => [t, i])), merges };
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new TokenizerError(`cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function tokenContent(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (isRecord(v) && typeof v.content === 'string') return v.content;
  return undefined;
}

/** Padding token and context length from tokenizer_config.json / special_tokens_map.json, when present. */
function readSpecialConfig(folder: string, vocab: ReadonlyMap<string, number>): { padToken?: number; maxLength?: number } {
  let padName: string | undefined;
  let maxLength: number | undefined;
  for (const file of ['special_tokens_map.json', 'tokenizer_config.json']) {
    const p = join(folder, file);
    if (!existsSync(p)) continue;
    const cfg = readJson(p);
    if (!isRecord(cfg)) continue;
    padName = tokenContent(cfg.pad_token) ?? padName;
    const ml = cfg.model_max_length;
    // NOTE: transformers writes a huge sentinel (1e30) when no length is known; ignore anything implausible.
    if (typeof ml === 'number' && Number.isInteger(ml) && ml >= 2 && ml <= 100000) maxLength = ml;
  }
  const padToken = padName === undefined ? undefined : vocab.get(padName);
  if (padName !== undefined && padToken === undefined) throw new TokenizerError(`pad_token '${padName}' is not in the vocabulary`);
  return { padToken, maxLength };
}

/**
 * Loads a CLIP tokenizer from a folder holding `tokenizer.json`, or `vocab.json` + `merges.txt`, or openai's
 * `bpe_simple_vocab_16e6.txt.gz` (also looked for in a `tokenizer/` subfolder, as in diffusers pipelines).
 */
export function loadClipTokenizer(folder: string): ClipTokenizer {
  const dir = !hasTokenizerFiles(folder) && hasTokenizerFiles(join(folder, 'tokenizer')) ? join(folder, 'tokenizer') : folder;
  let parsed: { vocab: Map<string, number>; merges: Merge[] };
  if (existsSync(join(dir, 'vocab.json')) && existsSync(join(dir, 'merges.txt'))) {
    parsed = vocabAndMergesFromHf(readJson(join(dir, 'vocab.json')), readFileSync(join(dir, 'merges.txt'), 'utf8'));
  } else if (existsSync(join(dir, 'tokenizer.json'))) {
    parsed = vocabAndMergesFromTokenizerJson(readJson(join(dir, 'tokenizer.json')));
  } else if (existsSync(join(dir, 'bpe_simple_vocab_16e6.txt.gz'))) {
    parsed = vocabAndMergesFromOpenaiBpe(readFileSync(join(dir, 'bpe_simple_vocab_16e6.txt.gz')));
  } else {
    throw new TokenizerError(`no tokenizer.json, vocab.json + merges.txt or bpe_simple_vocab_16e6.txt.gz in ${folder}`);
  }
  return new ClipTokenizer({ ...parsed, ...readSpecialConfig(dir, parsed.vocab) });
}

function hasTokenizerFiles(dir: string): boolean {
  return ['tokenizer.json', 'vocab.json', 'bpe_simple_vocab_16e6.txt.gz'].some((f) => existsSync(join(dir, f)));
}

/** A CLIP tokenizer from openai's gzipped BPE file. */
export function clipTokenizerFromOpenaiBpe(gz: Uint8Array, opts: { padToken?: number; maxLength?: number } = {}): ClipTokenizer {
  return new ClipTokenizer({ ...vocabAndMergesFromOpenaiBpe(gz), ...opts });
}
