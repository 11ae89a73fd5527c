import type { EngineEvent, ExecutionResult } from '../engine/index.js';
import { executionErrorData, previewJpeg, runJob, type JobExecutor } from '../host/run-job.js';
import { promptFiles, type JobDirs } from '../host/job-files.js';
import type { StepScheduler } from '../runtime/batching/index.js';
import type { JobStore, Job, HistoryRecord } from './store.js';
import type { WsHub } from './ws-hub.js';
import { asJobWork } from './crash-cause.js';

/** A job that took the process down this many times (by the poison rule, crash-cause.ts) is not run again. */
export const MAX_ATTEMPTS = 3;

function errorMessage(promptId: string, type: string, message: string): [string, unknown] {
  return ['execution_error', executionErrorData(promptId, type, message)];
}

/** The history record of a job that crashed the process MAX_ATTEMPTS times. */
export function poisonRecord(job: Job): HistoryRecord {
  const msg = `the job was running when the server crashed ${job.attempts} times (crashes in its own work or of unknown cause); it is not run again`;
  return { outputs: {}, status: { status_str: 'error', completed: false, messages: [errorMessage(job.id, 'PoisonJobError', msg)] }, meta: {} };
}

function historyRecord(result: ExecutionResult): HistoryRecord {
  const meta: Record<string, unknown> = {};
  for (const id of Object.keys(result.outputs)) meta[id] = { node_id: id, display_node: id, parent_node: null, real_node_id: id };
  const ok = result.status === 'success';
  return { outputs: result.outputs, status: { status_str: ok ? 'success' : 'error', completed: ok, messages: result.messages }, meta };
}

const TERMINAL_EVENTS = new Set(['execution_success', 'execution_error', 'execution_interrupted']);

/** The store numbers `front` prompts below zero (ComfyUI's numbering), so they sort first. */
function isFront(job: Job): boolean {
  return job.number < 0;
}

interface Running {
  job: Job;
  abort: AbortController;
  node: string | null;
  /** Estimated peak bytes (memory admission), 0 when not estimated. */
  bytes: number;
}

/** Memory admission across concurrent jobs (host/memory-admission.ts). */
export interface RunnerMemory {
  /** Estimated peak bytes of a job. */
  estimate(job: Job): Promise<number>;
  /** Bytes the running jobs may use together now; undefined = no limit. */
  available(): number | undefined;
}

export interface JobRunnerOptions {
  /** Jobs running at once (`serve --concurrency`); their sampler steps interleave and batch. Default 1. */
  concurrency?: number;
  /**
   * With more than one slot, a job starts beside running ones only when their estimated peaks together
   * fit the memory limit; otherwise it waits for one to finish (queue order is kept). One job alone
   * always starts (POST /prompt refused what cannot fit alone).
   */
  memory?: RunnerMemory;
}

/**
 * Runs stored jobs, up to `concurrency` at a time. With more than one slot, a `front` job starts at once
 * even when all slots are busy (one such job at a time) and is served first from its next step boundary. Events go to each
 * prompt's client as they happen; the terminal event and `executing {node: null}` are sent only after
 * the history row is committed, so a client that reacts to them always finds the history entry.
 */
export class JobRunner {
  private readonly running = new Map<string, Running>();
  private wake: (() => void) | undefined;
  /** Counts notifications, so one that arrives while the loop awaits an estimate is not lost. */
  private wakeups = 0;
  private closing = false;
  private loop: Promise<void> | undefined;
  private readonly estimates = new Map<string, number>();
  readonly concurrency: number;
  private readonly memory: RunnerMemory | undefined;

  constructor(
    private readonly store: JobStore,
    private readonly executor: JobExecutor,
    private readonly dirs: JobDirs,
    private readonly hub: WsHub,
    private readonly log: (message: string) => void,
    opts: JobRunnerOptions = {},
  ) {
    this.concurrency = Math.max(1, Math.floor(opts.concurrency ?? 1));
    this.memory = this.concurrency > 1 ? opts.memory : undefined;
  }

  get scheduler(): StepScheduler {
    return this.executor.scheduler;
  }

  /** The longest-running job (ComfyUI has one current job). */
  get current(): { promptId: string; clientId: string | null; node: string | null } | undefined {
    return this.runningJobs()[0];
  }

  /** Every running job, oldest first. */
  runningJobs(): { promptId: string; clientId: string | null; node: string | null }[] {
    return [...this.running.values()].map((r) => ({ promptId: r.job.id, clientId: r.job.clientId, node: r.node }));
  }

  statusData(): { status: { exec_info: { queue_remaining: number } } } {
    return { status: { exec_info: { queue_remaining: this.store.countActive() } } };
  }

  queueChanged(): void {
    this.hub.broadcast('status', this.statusData());
    this.notify();
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Stops the job of `promptId` (or every running job, when omitted); the others keep running. */
  interrupt(promptId?: string): boolean {
    const targets = promptId === undefined ? [...this.running.values()] : [this.running.get(promptId)].filter((r) => r !== undefined);
    for (const r of targets) r.abort.abort();
    return targets.length > 0;
  }

  /** Stops taking jobs; running jobs are aborted and put back as pending (not counted as a crash). */
  async close(): Promise<void> {
    this.closing = true;
    for (const r of this.running.values()) r.abort.abort();
    this.notify();
    await this.loop;
  }

  /** The next pending job to start now, if a slot (or the front-job allowance) is free. */
  private admit(): Job | undefined {
    const next = this.store.next();
    if (!next) return undefined;
    if (this.running.size < this.concurrency) return next;
    // With one slot the runner is ComfyUI's: a front prompt is only the head of the queue.
    if (this.concurrency === 1) return undefined;
    const frontRunning = [...this.running.values()].some((r) => isFront(r.job));
    return isFront(next) && !frontRunning ? next : undefined;
  }

  private notify(): void {
    this.wakeups++;
    this.wake?.();
  }

  /** Whether `job` fits beside the running jobs under the memory limit (memory admission). */
  private async fits(job: Job): Promise<{ ok: boolean; bytes: number }> {
    if (!this.memory) return { ok: true, bytes: 0 };
    let bytes = this.estimates.get(job.id);
    if (bytes === undefined) {
      bytes = await this.memory.estimate(job).catch(() => 0);
      this.estimates.set(job.id, bytes);
    }
    if (this.running.size === 0) return { ok: true, bytes };
    const available = this.memory.available();
    const used = [...this.running.values()].reduce((a, r) => a + r.bytes, 0);
    return { ok: available === undefined || used + bytes <= available, bytes };
  }

  private async run(): Promise<void> {
    const tasks = new Set<Promise<void>>();
    while (!this.closing) {
      const seen = this.wakeups;
      const job = this.admit();
      const fit = job ? await this.fits(job) : undefined;
      // The estimate awaited: the job may have been deleted meanwhile.
      if (job && fit?.ok && this.store.status(job.id) !== 'pending') continue;
      if (!job || !fit?.ok || this.closing) {
        if (this.wakeups !== seen) continue;
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      this.estimates.delete(job.id);
      // The job's own work (nodes, their timers and promises) runs in its crash context.
      const task: Promise<void> = asJobWork(job.id, () => this.runGuarded(job, fit.bytes)).finally(() => {
        tasks.delete(task);
        this.notify();
      });
      tasks.add(task);
    }
    await Promise.all(tasks);
  }

  private async runGuarded(job: Job, bytes: number): Promise<void> {
    try {
      await this.runJob(job, bytes);
    } catch (e) {
      this.log(`job ${job.id} failed outside the engine: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      if (this.store.finish(job.id, 'error', { outputs: {}, status: { status_str: 'error', completed: false, messages: [errorMessage(job.id, e instanceof Error ? e.name : 'Error', String(e))] }, meta: {} })) {
        await this.store.durable().catch((err: unknown) => this.log(`job store sync failed: ${String(err)}`));
        this.queueChanged();
        this.hub.send(job.clientId, 'executing', { node: null, prompt_id: job.id });
      }
    } finally {
      this.running.delete(job.id);
    }
  }

  private async runJob(job: Job, bytes: number): Promise<void> {
    this.store.start(job.id);
    const abort = new AbortController();
    const running: Running = { job, abort, node: null, bytes };
    this.running.set(job.id, running);
    this.queueChanged();

    let chain: Promise<void> = Promise.resolve();
    const post = (fn: () => void | Promise<void>) => {
      chain = chain.then(fn).catch((e: unknown) => this.log(`ws send failed: ${String(e)}`));
    };
    const held: EngineEvent[] = [];
    const onEvent = (ev: EngineEvent) => {
      if (TERMINAL_EVENTS.has(ev.type)) return void held.push(ev);
      if (ev.type === 'executing') running.node = ev.data.node;
      post(() => this.hub.send(job.clientId, ev.type, ev.data));
      if (ev.type === 'progress' && ev.preview) {
        const preview = ev.preview;
        const node = ev.data.node;
        post(async () => {
          const jpeg = await previewJpeg(preview);
          this.hub.sendPreview(job.clientId, jpeg, { node_id: node, prompt_id: job.id, display_node_id: node, parent_node_id: null, real_node_id: node });
        });
      }
    };

    const { result } = await runJob(
      this.executor,
      {
        id: job.id,
        workflow: job.prompt,
        targets: job.outputsToExecute,
        extraData: job.extraData,
        front: isFront(job),
        files: () => promptFiles(this.dirs, job.id),
        // Step previews cost main-thread work (latent -> RGB -> JPEG each step): rendered only when a
        // WebSocket client that would receive them is connected as the job starts.
        previews: this.hub.hasListener(job.clientId),
      },
      { signal: abort.signal, onEvent },
    );
    if (this.closing && result.status === 'interrupted') {
      this.store.release(job.id);
      return;
    }
    this.store.finish(job.id, result.status, historyRecord(result));
    // Clients that see the terminal event find the history entry, and it survives power loss.
    await Promise.all([chain, this.store.durable()]);
    for (const ev of held) this.hub.send(job.clientId, ev.type, ev.data);
    this.running.delete(job.id);
    this.queueChanged();
    this.hub.send(job.clientId, 'executing', { node: null, prompt_id: job.id });
  }
}
