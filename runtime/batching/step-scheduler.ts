/**
 * Step-level scheduling of the jobs of one process (the idea of iteration-level scheduling, Yu et al.
 * 2022 "Orca", applied to denoising steps as in StreamDiffusion's stream batch): every U-Net evaluation
 * of a job is a step boundary where it yields to the batching point. There the scheduler decides the
 * order: jobs submitted with `front` first, then round-robin (least recently served first). It also
 * carries the batching policy the process was started with (`--max-batch`).
 */

/** Thrown for a scheduler option out of range. */
export class SchedulerConfigError extends Error {
  override readonly name = 'SchedulerConfigError';
}

/**
 * NOTE: 16 rows = 8 jobs with CFG; measured on toyworld 64x64 (bench/batching.bench.ts) a 16-row call
 * costs about 3x a 2-row call, and larger calls gain little more while delaying every job in them.
 */
export const DEFAULT_MAX_BATCH = 16;
/** NOTE: a bounded wait for other running jobs' requests: a toyworld step is ~1-3 ms of main-thread work. */
export const DEFAULT_MAX_WAIT_MS = 3;

export interface SchedulerOptions {
  /** Rows per U-Net call; 1 serves one row per call (no cross-job batching). */
  readonly maxBatch?: number;
  /** How long a call may wait for the requests of jobs served in the previous call. */
  readonly maxWaitMs?: number;
}

/** One job's place in the scheduler, opened when the job starts and closed when it ends. */
export class JobLane {
  /** Tick of the scheduler when a request of this job was last served (round-robin order). */
  lastServed = -1;
  /** U-Net evaluations served so far. */
  steps = 0;
  closed = false;

  constructor(
    readonly scheduler: StepScheduler,
    readonly id: string,
    readonly front: boolean,
  ) {}

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.scheduler.remove(this);
  }
}

/** Anything queued at a batching point: its job (if any) and its arrival number. */
export interface Schedulable {
  readonly lane?: JobLane;
  readonly seq: number;
}

/** Orders queued work: front jobs, then the least recently served job (round-robin), then arrival. */
export function scheduleOrder(a: Schedulable, b: Schedulable): number {
  const fa = a.lane?.front ? 0 : 1;
  const fb = b.lane?.front ? 0 : 1;
  if (fa !== fb) return fa - fb;
  const sa = a.lane?.lastServed ?? -1;
  const sb = b.lane?.lastServed ?? -1;
  return sa !== sb ? sa - sb : a.seq - b.seq;
}

export class StepScheduler {
  readonly maxBatch: number;
  readonly maxWaitMs: number;
  private readonly open = new Set<JobLane>();
  private tick = 0;

  constructor(opts: SchedulerOptions = {}) {
    this.maxBatch = opts.maxBatch ?? DEFAULT_MAX_BATCH;
    this.maxWaitMs = opts.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
    if (!Number.isInteger(this.maxBatch) || this.maxBatch < 1) throw new SchedulerConfigError(`maxBatch must be a whole number >= 1, got ${this.maxBatch}`);
    if (!(this.maxWaitMs >= 0)) throw new SchedulerConfigError(`maxWaitMs must be >= 0, got ${this.maxWaitMs}`);
  }

  /** Registers a starting job. */
  lane(id: string, opts: { front?: boolean } = {}): JobLane {
    const lane = new JobLane(this, id, opts.front === true);
    this.open.add(lane);
    return lane;
  }

  /** @internal Called by JobLane.close. */
  remove(lane: JobLane): void {
    this.open.delete(lane);
  }

  /** Jobs currently running. */
  get running(): number {
    return this.open.size;
  }

  /** Records that these jobs had an evaluation served (one tick for the whole call). */
  served(lanes: Iterable<JobLane>): void {
    const t = ++this.tick;
    for (const l of lanes) {
      l.lastServed = t;
      l.steps++;
    }
  }
}
