import path from 'node:path';
import type { EngineEvent, ExecutionResult } from '../../engine/index.js';
import { batchJobFiles, type JobDirs, type WrittenFile } from '../../host/job-files.js';
import { runJob, type JobDispatcher, type JobExecutor } from '../../host/run-job.js';
import type { JobRecord, Manifest, OutputRecord } from './manifest.js';
import type { PlannedJob } from './plan.js';

/** What the batch runner reports: the engine's events tagged with their job, plus job-level events. */
export type BatchEvent =
  | { type: 'batch_start'; total: number; to_run: number; skipped: number; jobs: number }
  | { type: 'job_skipped'; job: string; index: number; label: string; outputs: readonly OutputRecord[] }
  | { type: 'job_start'; job: string; index: number; label: string; overrides: JobRecord['overrides']; seed: JobRecord['seed'] }
  | { type: 'engine'; job: string; event: EngineEvent }
  | { type: 'job_end'; job: string; index: number; label: string; record: JobRecord }
  | { type: 'batch_end'; summary: BatchSummary };

export interface BatchSummary {
  readonly total: number;
  /** Jobs finished by this run. */
  readonly done: number;
  /** Jobs a previous run finished (outputs verified by sha256). */
  readonly skipped: number;
  readonly failed: readonly { job: string; label: string; error: string }[];
  readonly interrupted: number;
  readonly pending: number;
}

export interface BatchRunOptions {
  /** The host's engine and step scheduler: running jobs interleave their sampler steps and batch their U-Net calls. */
  readonly host: JobExecutor;
  /** The batch's folders (outputs are named after each job). */
  readonly dirs: JobDirs;
  readonly manifest: Manifest;
  readonly jobs: readonly PlannedJob[];
  /** Jobs in flight at once (`--jobs`). */
  readonly concurrency: number;
  /** Aborting stops every running job at its next step boundary and starts no new one. */
  readonly signal: AbortSignal;
  readonly extraPngInfo?: Record<string, unknown>;
  readonly onEvent?: (ev: BatchEvent) => void;
  /** Runs the jobs elsewhere (`--redis`) instead of on `engine`: all are handed over at once, no launch gate. */
  readonly executor?: JobDispatcher;
}


function describeError(result: ExecutionResult): JobRecord['error'] {
  if (result.error) return { node: result.error.nodeId, node_type: result.error.nodeType, type: result.error.errorType, message: result.error.message };
  return undefined;
}

function toOutputs(dir: string, written: readonly WrittenFile[]): OutputRecord[] {
  return written
    .filter((w) => w.type === 'output')
    .map((w) => ({ node: w.nodeId, file: path.relative(dir, w.path).split(path.sep).join('/'), sha256: w.sha256, bytes: w.bytes }));
}

/** Runs the planned jobs, `concurrency` at a time on one engine (one model pool, one output cache). */
export async function runBatch(opts: BatchRunOptions): Promise<BatchSummary> {
  const { manifest, jobs, signal } = opts;
  const emit = (ev: BatchEvent) => opts.onEvent?.(ev);
  const queue: PlannedJob[] = [];
  const finished: PlannedJob[] = [];
  for (const job of jobs) ((await manifest.isComplete(job.id)) ? finished : queue).push(job);
  const skipped = finished.length;
  const concurrency = opts.executor ? queue.length || 1 : Math.max(1, Math.min(opts.concurrency, queue.length || 1));
  emit({ type: 'batch_start', total: jobs.length, to_run: queue.length, skipped, jobs: concurrency });
  for (const job of finished) emit({ type: 'job_skipped', job: job.id, index: job.index, label: job.label, outputs: manifest.get(job.id)!.outputs });

  let done = 0;
  let interrupted = 0;
  const failed: { job: string; label: string; error: string }[] = [];

  function execute(job: PlannedJob, openGate: () => void) {
    return runJob(
      opts.host,
      { id: job.id, workflow: job.workflow, batch: true, previews: false, extraData: opts.extraPngInfo ? { extra_pnginfo: opts.extraPngInfo } : undefined, files: () => batchJobFiles(opts.dirs, job.id) },
      {
        signal,
        onEvent: (event) => {
          if (event.type === 'progress') openGate();
          emit({ type: 'engine', job: job.id, event });
        },
      },
    );
  }

  async function runOne(job: PlannedJob, openGate: () => void): Promise<void> {
    let started = new Date();
    let announced = false;
    const announce = () => {
      if (announced) return;
      announced = true;
      started = new Date();
      emit({ type: 'job_start', job: job.id, index: job.index, label: job.label, overrides: job.overrides, seed: job.seed });
    };
    const executor = opts.executor;
    if (executor) openGate();
    else announce();
    const base = () => ({ id: job.id, index: job.index, source: job.label, overrides: job.overrides, seed: job.seed, started_at: started.toISOString() });
    let record: JobRecord;
    try {
      const run = executor
        ? await executor.run(job, { signal, onStart: announce, onEvent: (event) => emit({ type: 'engine', job: job.id, event }) })
        : await execute(job, openGate);
      const r = run.result;
      const status = r.status === 'success' ? 'done' : r.status === 'error' ? 'failed' : 'interrupted';
      announce();
      record = {
        ...base(),
        status,
        outputs: toOutputs(manifest.dir, run.written),
        ended_at: new Date().toISOString(),
        duration_ms: Date.now() - started.getTime(),
        executed: r.executed.length,
        cached: r.cached.length,
        error: describeError(r),
      };
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      announce();
      record = {
        ...base(),
        status: 'failed',
        outputs: [],
        ended_at: new Date().toISOString(),
        duration_ms: Date.now() - started.getTime(),
        error: { node: '', node_type: '', type: err.name, message: err.message },
      };
    }
    openGate();
    await manifest.append(record);
    if (record.status === 'done') done++;
    else if (record.status === 'interrupted') interrupted++;
    else failed.push({ job: job.id, label: job.label, error: record.error ? `${record.error.node ? `node ${record.error.node} (${record.error.node_type}): ` : ''}${record.error.message}` : 'failed' });
    emit({ type: 'job_end', job: job.id, index: job.index, label: job.label, record });
  }

  // The launch gate: a job starts only once the job started before it has reached its first
  // sampler step (or ended). Its model loads and text encodings are then in the shared cache, so
  // with --jobs N a checkpoint still loads once and each distinct prompt is encoded once.
  let gate: Promise<void> = Promise.resolve();
  let next = 0;
  const worker = async () => {
    for (;;) {
      let seen: Promise<void>;
      do {
        seen = gate;
        await seen;
      } while (gate !== seen);
      if (signal.aborted || next >= queue.length) return;
      let open: () => void = () => {};
      gate = new Promise<void>((resolve) => (open = resolve));
      await runOne(queue[next++]!, open);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));

  const pending = queue.length - next;
  for (const j of queue.slice(next)) manifest.put({ id: j.id, index: j.index, source: j.label, overrides: j.overrides, seed: j.seed, status: 'pending', outputs: [] });
  await manifest.compact(jobs.map((j) => j.id));
  const summary: BatchSummary = { total: jobs.length, done, skipped, failed, interrupted, pending };
  emit({ type: 'batch_end', summary });
  return summary;
}
