import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseJson, stringifyJson, type JsonValue } from '../engine/index.js';
import { countsAgainst, type CrashCause, type FatalRecord } from './crash-cause.js';
import { WalSync } from './wal-sync.js';

export type JobStatus = 'pending' | 'running' | 'success' | 'error' | 'interrupted';
export const TERMINAL: readonly JobStatus[] = ['success', 'error', 'interrupted'];

/** ComfyUI's queue item: `[number, prompt_id, prompt, extra_data, outputs_to_execute]`. */
export type QueueItem = [number, string, JsonValue, Record<string, JsonValue>, string[]];

/** One accepted prompt, as stored. */
export interface Job {
  seq: number;
  id: string;
  number: number;
  prompt: JsonValue;
  extraData: Record<string, JsonValue>;
  outputsToExecute: string[];
  clientId: string | null;
  status: JobStatus;
  attempts: number;
  createdAt: number;
}

/** A finished job's history record (ComfyUI's entry minus the queue item, which the job row holds). */
export interface HistoryRecord {
  outputs: Record<string, unknown>;
  status: { status_str: 'success' | 'error'; completed: boolean; messages: [string, unknown][] };
  meta: Record<string, unknown>;
}

export interface HistoryEntry extends HistoryRecord {
  prompt: QueueItem;
}

/** A job row's identity: rows are never reused (AUTOINCREMENT), so `seq` names one immutable prompt. */
export interface RowKey {
  id: string;
  seq: number;
}

export interface NewJob {
  id: string;
  number?: number;
  front: boolean;
  prompt: JsonValue;
  extraData: Record<string, JsonValue>;
  outputsToExecute: string[];
  clientId: string | null;
}

interface JobRow {
  seq: number;
  id: string;
  number: number;
  prompt: string;
  extra_data: string;
  outputs: string;
  client_id: string | null;
  status: JobStatus;
  attempts: number;
  created_at: number;
  history: string | null;
}

/** A stored row that no longer parses (hand-edited database, say). */
export class CorruptJobError extends Error {
  override name = 'CorruptJobError';
}

function asRecord(v: JsonValue): Record<string, JsonValue> {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v;
  throw new CorruptJobError('expected a JSON object');
}

function rowToJob(r: JobRow): Job {
  const outputs = parseJson(r.outputs);
  return {
    seq: r.seq,
    id: r.id,
    number: r.number,
    prompt: parseJson(r.prompt),
    extraData: asRecord(parseJson(r.extra_data)),
    outputsToExecute: Array.isArray(outputs) ? outputs.map(String) : [],
    clientId: r.client_id,
    status: r.status,
    attempts: r.attempts,
    createdAt: r.created_at,
  };
}

function statusOf(v: JsonValue | undefined): HistoryRecord['status'] {
  const rec = v !== undefined ? asRecord(v) : {};
  const messages: [string, unknown][] = [];
  if (Array.isArray(rec.messages)) for (const m of rec.messages) if (Array.isArray(m) && typeof m[0] === 'string') messages.push([m[0], m[1]]);
  return { status_str: rec.status_str === 'success' ? 'success' : 'error', completed: rec.completed === true, messages };
}

export function queueItem(job: Job): QueueItem {
  return [job.number, job.id, job.prompt, job.extraData, job.outputsToExecute];
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  number REAL NOT NULL,
  prompt TEXT NOT NULL,
  extra_data TEXT NOT NULL,
  outputs TEXT NOT NULL,
  client_id TEXT,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  history TEXT,
  history_seq INTEGER
);
CREATE INDEX IF NOT EXISTS jobs_pending ON jobs(status, number, seq);
CREATE INDEX IF NOT EXISTS jobs_history ON jobs(history_seq) WHERE history_seq IS NOT NULL;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS fatal (seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, cause TEXT NOT NULL, message TEXT NOT NULL);
`;

/** What `recover` did after a restart, and the recorded cause of the crash (none: unknown, like kill -9). */
export interface Recovery {
  requeued: string[];
  poisoned: string[];
  /** Running jobs whose attempt was given back because the crash was not theirs. */
  spared?: string[];
  fatal?: FatalRecord;
}

function parseCause(s: string): CrashCause {
  try {
    const c = JSON.parse(s) as CrashCause;
    if (c.kind === 'server' || (c.kind === 'job' && typeof c.jobId === 'string')) return c;
  } catch {
    // fall through: an unreadable cause is treated as unattributed
  }
  return { kind: 'unattributed' };
}

/**
 * The durable queue and history (one SQLite file in WAL mode). Every state change is one committed
 * transaction, so after a crash each job is either pending, running (to be re-run) or finished with
 * its history, never in between. Commits survive a killed process at once and power loss once
 * `durable()` resolves.
 */
export class JobStore {
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly wal: WalSync;

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    const file = path.join(dataDir, 'queue.sqlite');
    this.db = new Database(file);
    this.wal = new WalSync(`${file}-wal`);
    this.db.pragma('journal_mode = WAL');
    // NOTE: a commit is a write() to the WAL; what must survive power loss before it is acknowledged
    // (an accepted prompt, a finished job's history) awaits `durable()`, an fdatasync off the event loop.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
  }

  close(): void {
    this.db.close();
    void this.wal.close();
  }

  /** Resolves once every commit made so far survives power loss (wal-sync.ts). */
  durable(): Promise<void> {
    return this.wal.sync();
  }

  /** A prepared statement, compiled once (preparing costs more than running these small queries). */
  private q(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (!st) this.statements.set(sql, (st = this.db.prepare(sql)));
    return st;
  }

  /** Ids and row numbers of the running and pending jobs in queue order, without their prompts (GET /queue). */
  activeKeys(): { running: RowKey[]; pending: RowKey[] } {
    return {
      running: this.q("SELECT id, seq FROM jobs WHERE status = 'running' ORDER BY seq").all() as RowKey[],
      pending: this.q("SELECT id, seq FROM jobs WHERE status = 'pending' ORDER BY attempts > 0 DESC, number, seq").all() as RowKey[],
    };
  }

  /** `history`'s page as ids and history numbers only (GET /history serves entries from a text cache). */
  historyKeys(maxItems?: number, offset = -1): { id: string; seq: number }[] {
    let start = offset;
    if (start < 0) start = maxItems !== undefined ? Math.max(0, this.historySize() - maxItems) : 0;
    const rows = this.q('SELECT id, history_seq AS seq FROM jobs WHERE history_seq IS NOT NULL ORDER BY history_seq LIMIT ? OFFSET ?').all(maxItems ?? -1, start);
    return rows as { id: string; seq: number }[];
  }

  /** A job by its row number (`activeKeys`). */
  bySeq(seq: number): Job | undefined {
    const r = this.q('SELECT * FROM jobs WHERE seq = ?').get(seq) as JobRow | undefined;
    return r ? rowToJob(r) : undefined;
  }

  private nextCounter(key: string): number {
    const row = this.q('SELECT value FROM meta WHERE key = ?').get(key) as { value: number } | undefined;
    const v = row?.value ?? 0;
    this.q('INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, v + 1);
    return v;
  }

  /** Commits a new pending job (ComfyUI numbering: a counter, negated for `front`). Returns the stored job. */
  add(job: NewJob): Job {
    const tx = this.db.transaction((j: NewJob): Job => {
      const existing = this.get(j.id);
      if (existing) return existing;
      let number = j.number;
      if (number === undefined) {
        const n = this.nextCounter('number');
        number = j.front ? -n : n;
      }
      this.db
        .prepare('INSERT INTO jobs(id, number, prompt, extra_data, outputs, client_id, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(j.id, number, stringifyJson(j.prompt), stringifyJson(j.extraData), JSON.stringify(j.outputsToExecute), j.clientId, 'pending', Date.now());
      return this.get(j.id)!;
    });
    return tx.immediate(job);
  }

  get(id: string): Job | undefined {
    const r = this.q('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
    return r ? rowToJob(r) : undefined;
  }

  status(id: string): JobStatus | undefined {
    const r = this.q('SELECT status FROM jobs WHERE id = ?').get(id) as { status: JobStatus } | undefined;
    return r?.status;
  }

  /** The next job to run: jobs resumed after a crash first, then by number (front prompts are negative). */
  next(): Job | undefined {
    const r = this.q("SELECT * FROM jobs WHERE status = 'pending' ORDER BY attempts > 0 DESC, number, seq LIMIT 1").get() as JobRow | undefined;
    return r ? rowToJob(r) : undefined;
  }

  pending(): Job[] {
    const rows = this.q("SELECT * FROM jobs WHERE status = 'pending' ORDER BY attempts > 0 DESC, number, seq").all() as JobRow[];
    return rows.map(rowToJob);
  }

  running(): Job[] {
    return (this.q("SELECT * FROM jobs WHERE status = 'running' ORDER BY seq").all() as JobRow[]).map(rowToJob);
  }

  countActive(): number {
    const r = this.q("SELECT COUNT(*) AS n FROM jobs WHERE status IN ('pending', 'running')").get() as { n: number };
    return r.n;
  }

  /** Marks a job running and counts the attempt, committed before any node runs. */
  start(id: string): void {
    this.q("UPDATE jobs SET status = 'running', attempts = attempts + 1, started_at = ? WHERE id = ? AND status = 'pending'").run(Date.now(), id);
  }

  /** Puts a running job back without counting the attempt (a clean shutdown is not a crash). */
  release(id: string): void {
    this.q("UPDATE jobs SET status = 'pending', attempts = MAX(attempts - 1, 0) WHERE id = ? AND status = 'running'").run(id);
  }

  /** Writes the job's final status and history in one transaction; a job finishes at most once. */
  finish(id: string, status: 'success' | 'error' | 'interrupted', record: HistoryRecord): boolean {
    const tx = this.db.transaction(() => {
      const seq = this.nextCounter('history');
      const r = this.db
        .prepare("UPDATE jobs SET status = ?, finished_at = ?, history = ?, history_seq = ? WHERE id = ? AND status IN ('pending', 'running')")
        .run(status, Date.now(), stringifyJson(record), seq, id);
      return r.changes === 1;
    });
    return tx.immediate();
  }

  /** Records the error that is about to end this process (crash-cause.ts), for the next start's `recover`. */
  recordFatal(f: FatalRecord): void {
    this.q('INSERT INTO fatal(at, cause, message) VALUES (?, ?, ?)').run(f.at, JSON.stringify(f.cause), f.message);
  }

  /**
   * After a restart: jobs left running were interrupted by the crash. The crash's recorded cause
   * decides whom it counts against (`countsAgainst`, the poison rule); a job it does not count against
   * gets its attempt back. Jobs that used `maxAttempts` become errors ("poison"); the rest go back to
   * the head of the queue. One transaction, which also consumes the fatal record.
   */
  recover(maxAttempts: number, poisonRecord: (job: Job) => HistoryRecord): Recovery {
    const tx = this.db.transaction((): Recovery => {
      const row = this.q('SELECT at, cause, message FROM fatal ORDER BY seq DESC LIMIT 1').get() as { at: number; cause: string; message: string } | undefined;
      this.q('DELETE FROM fatal').run();
      const fatal: FatalRecord | undefined = row ? { at: row.at, cause: parseCause(row.cause), message: row.message } : undefined;
      const running = this.running();
      const ids = running.map((j) => j.id);
      const requeued: string[] = [];
      const poisoned: string[] = [];
      const spared: string[] = [];
      for (const job of running) {
        if (!countsAgainst(fatal, job.id, ids)) {
          this.q("UPDATE jobs SET status = 'pending', attempts = MAX(attempts - 1, 0) WHERE id = ? AND status = 'running'").run(job.id);
          spared.push(job.id);
          requeued.push(job.id);
        } else if (job.attempts >= maxAttempts) {
          this.finish(job.id, 'error', poisonRecord(job));
          poisoned.push(job.id);
        } else {
          this.q("UPDATE jobs SET status = 'pending' WHERE id = ? AND status = 'running'").run(job.id);
          requeued.push(job.id);
        }
      }
      return fatal ? { requeued, poisoned, spared, fatal } : { requeued, poisoned };
    });
    return tx.immediate();
  }

  /** Removes pending jobs (POST /queue delete/clear); running ones are stopped through interrupt. */
  deletePending(ids?: readonly string[]): number {
    if (!ids) return this.q("DELETE FROM jobs WHERE status = 'pending'").run().changes;
    const stmt = this.q("DELETE FROM jobs WHERE id = ? AND status = 'pending'");
    return this.db.transaction(() => ids.reduce((n, id) => n + stmt.run(id).changes, 0))();
  }

  deleteHistory(ids?: readonly string[]): number {
    if (!ids) return this.q('DELETE FROM jobs WHERE history_seq IS NOT NULL').run().changes;
    const stmt = this.q('DELETE FROM jobs WHERE id = ? AND history_seq IS NOT NULL');
    return this.db.transaction(() => ids.reduce((n, id) => n + stmt.run(id).changes, 0))();
  }

  private entry(r: JobRow): HistoryEntry {
    const rec = parseJson(r.history ?? '{}');
    const record = asRecord(rec);
    return {
      prompt: queueItem(rowToJob(r)),
      outputs: asRecord(record.outputs ?? {}),
      status: statusOf(record.status),
      meta: asRecord(record.meta ?? {}),
    };
  }

  historyEntry(id: string): HistoryEntry | undefined {
    const r = this.q('SELECT * FROM jobs WHERE id = ? AND history_seq IS NOT NULL').get(id) as JobRow | undefined;
    return r ? this.entry(r) : undefined;
  }

  historySize(): number {
    return (this.q('SELECT COUNT(*) AS n FROM jobs WHERE history_seq IS NOT NULL').get() as { n: number }).n;
  }

  /** ComfyUI's paging: `offset` < 0 with `maxItems` means "the last maxItems"; oldest first. */
  history(maxItems?: number, offset = -1): [string, HistoryEntry][] {
    let start = offset;
    if (start < 0) start = maxItems !== undefined ? Math.max(0, this.historySize() - maxItems) : 0;
    const limit = maxItems ?? -1;
    const rows = this.db
      .prepare('SELECT * FROM jobs WHERE history_seq IS NOT NULL ORDER BY history_seq LIMIT ? OFFSET ?')
      .all(limit, start) as JobRow[];
    return rows.map((r) => [r.id, this.entry(r)]);
  }
}
