import { createHash } from 'node:crypto';
import { appendFile, readFile } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { parseJson, stringifyJson, writeFileDurable, type JsonValue } from '../../engine/index.js';

export type JobStatus = 'done' | 'failed' | 'interrupted' | 'pending';

/** One output file of a job, relative to the batch output folder. */
export interface OutputRecord {
  readonly node: string;
  readonly file: string;
  readonly sha256: string;
  readonly bytes: number;
}

/** One line of `manifest.jsonl`. */
export interface JobRecord {
  readonly id: string;
  readonly index: number;
  readonly source: string;
  readonly overrides: Readonly<Record<string, JsonValue>>;
  readonly seed: JsonValue;
  readonly status: JobStatus;
  readonly outputs: readonly OutputRecord[];
  readonly started_at?: string;
  readonly ended_at?: string;
  readonly duration_ms?: number;
  /** Nodes the job executed and the nodes it took from the shared cache. */
  readonly executed?: number;
  readonly cached?: number;
  readonly error?: { readonly node: string; readonly node_type: string; readonly type: string; readonly message: string };
}

export const MANIFEST_NAME = 'manifest.jsonl';

function str(o: Record<string, JsonValue>, k: string): string | undefined {
  const v = o[k];
  return typeof v === 'string' ? v : undefined;
}

function isObject(v: JsonValue | undefined): v is Record<string, JsonValue> {
  return v !== null && v !== undefined && typeof v === 'object' && !Array.isArray(v);
}

const STATUSES: readonly JobStatus[] = ['done', 'failed', 'interrupted', 'pending'];

function isStatus(s: string | undefined): s is JobStatus {
  return STATUSES.some((x) => x === s);
}

/** Checks a parsed line's shape; returns undefined for anything that is not a job record. */
export function toJobRecord(v: JsonValue): JobRecord | undefined {
  if (!isObject(v)) return undefined;
  const id = str(v, 'id');
  const status = str(v, 'status');
  const outputs = v.outputs;
  if (!id || !isStatus(status) || !Array.isArray(outputs)) return undefined;
  const outs: OutputRecord[] = [];
  for (const o of outputs) {
    if (!isObject(o)) return undefined;
    const node = str(o, 'node');
    const file = str(o, 'file');
    const sha256 = str(o, 'sha256');
    const bytes = o.bytes;
    if (node === undefined || !file || !sha256 || typeof bytes !== 'number') return undefined;
    outs.push({ node, file, sha256, bytes });
  }
  const e = v.error;
  const error = isObject(e)
    ? { node: str(e, 'node') ?? '', node_type: str(e, 'node_type') ?? '', type: str(e, 'type') ?? 'Error', message: str(e, 'message') ?? '' }
    : undefined;
  const num = (k: string) => (typeof v[k] === 'number' ? v[k] : undefined);
  return {
    id,
    index: num('index') ?? -1,
    source: str(v, 'source') ?? '',
    overrides: isObject(v.overrides) ? v.overrides : {},
    seed: v.seed ?? null,
    status,
    outputs: outs,
    started_at: str(v, 'started_at'),
    ended_at: str(v, 'ended_at'),
    duration_ms: num('duration_ms'),
    executed: num('executed'),
    cached: num('cached'),
    error,
  };
}

export async function sha256File(file: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (c) => h.update(c))
      .on('error', () => resolve(undefined))
      .on('end', () => resolve(h.digest('hex')));
  });
}

/**
 * `DIR/manifest.jsonl`: one record per job. Finished jobs are appended as they end (a kill loses at
 * most a torn last line, which reading skips); `compact` rewrites the file, one line per job, through
 * a temp file and a rename.
 */
export class Manifest {
  readonly file: string;
  private readonly records = new Map<string, JobRecord>();
  /** Lines that could not be read, reported once (a torn tail after a kill). */
  readonly skippedLines: number[] = [];
  /** The file ends inside a line (a kill during an append): the next append starts a new line. */
  private tornTail = false;

  private constructor(readonly dir: string) {
    this.file = path.join(dir, MANIFEST_NAME);
  }

  static async open(dir: string): Promise<Manifest> {
    const m = new Manifest(dir);
    let text = '';
    try {
      text = await readFile(m.file, 'utf8');
    } catch (e) {
      if (!(e instanceof Error && 'code' in e && e.code === 'ENOENT')) throw e;
    }
    m.tornTail = text.length > 0 && !text.endsWith('\n');
    text.split('\n').forEach((line, i) => {
      if (!line.trim()) return;
      let rec: JobRecord | undefined;
      try {
        rec = toJobRecord(parseJson(line));
      } catch {
        rec = undefined;
      }
      if (rec) m.records.set(rec.id, rec);
      else m.skippedLines.push(i + 1);
    });
    return m;
  }

  get(id: string): JobRecord | undefined {
    return this.records.get(id);
  }

  all(): JobRecord[] {
    return [...this.records.values()];
  }

  /** A finished job whose every output still exists with the recorded sha256. */
  async isComplete(id: string): Promise<boolean> {
    const r = this.records.get(id);
    if (r?.status !== 'done') return false;
    for (const o of r.outputs) {
      if ((await sha256File(path.resolve(this.dir, o.file))) !== o.sha256) return false;
    }
    return true;
  }

  /** Replaces a job's record in memory only; `compact` writes it. */
  put(rec: JobRecord): void {
    this.records.set(rec.id, rec);
  }

  async append(rec: JobRecord): Promise<void> {
    this.records.set(rec.id, rec);
    await appendFile(this.file, `${this.tornTail ? '\n' : ''}${stringifyJson(rec)}\n`);
    this.tornTail = false;
  }

  /** Rewrites the manifest: `order`'s jobs first, in that order, then records of jobs not in this batch. */
  async compact(order: readonly string[]): Promise<void> {
    const lines: string[] = [];
    const inBatch = new Set(order);
    for (const id of order) {
      const r = this.records.get(id);
      if (r) lines.push(stringifyJson(r));
    }
    for (const [id, r] of this.records) if (!inBatch.has(id)) lines.push(stringifyJson(r));
    // The batch's temp marker: a compaction cut short by a kill is swept up by the next run.
    await writeFileDurable(this.file, Buffer.from(lines.length ? `${lines.join('\n')}\n` : ''), 'lfbatch-');
    this.tornTail = false;
  }
}
