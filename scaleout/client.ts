import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { redisOptions } from './connection.js';
import {
  DEFAULT_QUEUE,
  cancelChannel,
  decodeEvent,
  decodeResult,
  errorFromLogs,
  eventChannel,
  type RemoteErrorDetail,
  type RemoteEvent,
  type RemoteJobData,
  type RemoteJobResult,
} from './protocol.js';

export interface DistributedClientOptions {
  /** `redis://host:port[/db]`. */
  readonly url: string;
  readonly queue?: string;
  /** BullMQ key prefix (default `bull`). */
  readonly prefix?: string;
  /** Runs of a job before it ends as failed (BullMQ `attempts`; a stalled run counts through `maxStalledCount`). */
  readonly attempts?: number;
  readonly backoffMs?: number;
  /** How often the state of every watched job is read, in case a completion event was missed. */
  readonly pollMs?: number;
  /** Finished jobs nobody collected are dropped from Redis after this many seconds. */
  readonly keepSeconds?: number;
  readonly log?: (message: string) => void;
}

export type RemoteOutcome =
  | { readonly state: 'completed'; readonly result: RemoteJobResult; readonly attempts: number }
  | { readonly state: 'failed'; readonly reason: string; readonly error?: RemoteErrorDetail; readonly attempts: number }
  | { readonly state: 'cancelled' };

export interface RunHandlers {
  readonly onEvent?: (ev: RemoteEvent) => void;
  /** Aborting asks the worker to stop the job (or removes it while it waits). */
  readonly signal?: AbortSignal;
}

interface Waiter {
  readonly data: RemoteJobData;
  readonly resolve: (o: RemoteOutcome) => void;
  cancelled: boolean;
  checking: boolean;
  done: boolean;
}

/**
 * The submitting side of the BullMQ queue: adds jobs under deterministic ids (adding an id that is
 * already queued, running or finished is a no-op), relays each job's pub/sub events, and resolves
 * when the job ends. Completion comes from BullMQ's event stream, backed by polling, so a missed
 * event or a Redis restart only delays it; a job that vanished from Redis is added again.
 */
export class DistributedClient {
  readonly queueName: string;
  readonly prefix: string;
  private readonly waiters = new Map<string, Waiter>();
  private readonly listeners = new Map<string, (ev: RemoteEvent) => void>();
  private readonly timer: NodeJS.Timeout;
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly keepSeconds: number;
  private readonly log: (message: string) => void;
  private lastError = '';
  /** One abort listener per signal (a batch shares one signal among thousands of jobs). */
  private readonly bySignal = new WeakMap<AbortSignal, Set<string>>();

  private constructor(
    readonly queue: Queue,
    private readonly events: QueueEvents,
    private readonly sub: Redis,
    private readonly pub: Redis,
    opts: DistributedClientOptions,
  ) {
    this.queueName = opts.queue ?? DEFAULT_QUEUE;
    this.prefix = opts.prefix ?? 'bull';
    this.attempts = Math.max(1, opts.attempts ?? 3);
    this.backoffMs = opts.backoffMs ?? 1000;
    this.keepSeconds = opts.keepSeconds ?? 24 * 3600;
    this.log = opts.log ?? (() => {});
    const onError = (e: Error) => this.onError(e);
    queue.on('error', onError);
    events.on('error', onError);
    sub.on('error', onError);
    pub.on('error', onError);
    sub.on('message', (channel: string, message: string) => {
      const l = this.listeners.get(channel);
      if (!l) return;
      try {
        l(decodeEvent(message));
      } catch (e) {
        this.onError(e instanceof Error ? e : new Error(String(e)));
      }
    });
    const recheck = ({ jobId }: { jobId: string }) => void this.check(jobId);
    events.on('completed', recheck);
    events.on('failed', recheck);
    events.on('removed', recheck);
    this.timer = setInterval(() => void this.checkAll(), opts.pollMs ?? 2000);
    this.timer.unref();
  }

  static async open(opts: DistributedClientOptions): Promise<DistributedClient> {
    const connection = redisOptions(opts.url);
    const prefix = opts.prefix ?? 'bull';
    const name = opts.queue ?? DEFAULT_QUEUE;
    const queue = new Queue(name, { connection, prefix });
    const events = new QueueEvents(name, { connection, prefix });
    const sub = new Redis(connection);
    const pub = new Redis(connection);
    const client = new DistributedClient(queue, events, sub, pub, opts);
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    return client;
  }

  private onError(e: Error): void {
    // A Redis outage makes every connection report the same error; log it once per change.
    if (e.message === this.lastError) return;
    this.lastError = e.message;
    this.log(`redis: ${e.message}`);
  }

  /** Adds the job unless it is already queued, running or completed; a failed one is replaced. */
  private async submit(id: string, data: RemoteJobData): Promise<void> {
    const existing = await this.queue.getJob(id);
    if (existing) {
      const state = await existing.getState();
      if (state !== 'failed' && state !== 'unknown') return;
      await existing.remove();
    }
    await this.queue.add('run', data, {
      jobId: id,
      attempts: this.attempts,
      backoff: { type: 'fixed', delay: this.backoffMs },
      removeOnComplete: { age: this.keepSeconds },
      removeOnFail: { age: this.keepSeconds },
    });
  }

  /** Submits job `id` (or attaches to it) and resolves when it has ended. */
  async run(id: string, data: RemoteJobData, handlers: RunHandlers = {}): Promise<RemoteOutcome> {
    const channel = eventChannel(this.prefix, this.queueName, id);
    if (handlers.onEvent) {
      this.listeners.set(channel, handlers.onEvent);
      // Subscribed before the job is added, so no event of the job can be published unseen.
      await this.sub.subscribe(channel);
    }
    const signal = handlers.signal;
    try {
      const outcome = new Promise<RemoteOutcome>((resolve) => {
        this.waiters.set(id, { data, resolve, cancelled: false, checking: false, done: false });
      });
      await this.submit(id, data);
      if (signal) this.watchSignal(signal, id);
      void this.check(id);
      return await outcome;
    } finally {
      if (signal) this.bySignal.get(signal)?.delete(id);
      this.waiters.delete(id);
      if (handlers.onEvent) {
        this.listeners.delete(channel);
        await this.sub.unsubscribe(channel).catch(() => undefined);
      }
    }
  }

  private watchSignal(signal: AbortSignal, id: string): void {
    if (signal.aborted) return void this.cancel(id).catch((e: unknown) => this.onError(e instanceof Error ? e : new Error(String(e))));
    let ids = this.bySignal.get(signal);
    if (!ids) {
      const set = new Set<string>();
      ids = set;
      this.bySignal.set(signal, set);
      signal.addEventListener('abort', () => {
        for (const j of set) void this.cancel(j).catch((e: unknown) => this.onError(e instanceof Error ? e : new Error(String(e))));
      }, { once: true });
    }
    ids.add(id);
  }

  /** Asks the worker running `id` to stop it, or removes it while it still waits. */
  async cancel(id: string): Promise<void> {
    const w = this.waiters.get(id);
    if (w) w.cancelled = true;
    await this.pub.publish(cancelChannel(this.prefix, this.queueName), id);
    const job = await this.queue.getJob(id);
    if (job && ['waiting', 'delayed', 'prioritized', 'waiting-children'].includes(await job.getState())) {
      // Fails when a worker took the job meanwhile: the cancel message then stops it.
      await job.remove().catch(() => undefined);
    }
    await this.check(id);
  }

  /** Drops a finished job (and its inlined files) from Redis once the submitter has recorded it. */
  async forget(id: string): Promise<void> {
    const job = await this.queue.getJob(id);
    await job?.remove().catch(() => undefined);
  }

  private async checkAll(): Promise<void> {
    const ids = [...this.waiters.keys()];
    // NOTE: chunks of 100 keep a 10,000-job batch from flooding Redis every poll.
    for (let i = 0; i < ids.length; i += 100) await Promise.all(ids.slice(i, i + 100).map((id) => this.check(id)));
  }

  private async check(id: string): Promise<void> {
    const w = this.waiters.get(id);
    if (!w || w.checking || w.done) return;
    w.checking = true;
    try {
      const outcome = await this.readOutcome(id, w);
      if (outcome && !w.done) {
        w.done = true;
        w.resolve(outcome);
      }
    } catch (e) {
      this.onError(e instanceof Error ? e : new Error(String(e)));
    } finally {
      w.checking = false;
    }
  }

  private async readOutcome(id: string, w: Waiter): Promise<RemoteOutcome | undefined> {
    const job = await this.queue.getJob(id);
    if (!job) {
      if (w.cancelled) return { state: 'cancelled' };
      // Gone without an end we saw (Redis lost it, or another submitter collected it): run it again.
      this.log(`job ${id} is no longer in Redis; adding it again`);
      await this.submit(id, w.data);
      return undefined;
    }
    const state = await job.getState();
    if (state === 'completed') return { state: 'completed', result: decodeResult(job.returnvalue), attempts: job.attemptsMade };
    if (state === 'failed') {
      const { logs } = await this.queue.getJobLogs(id, 0, -1);
      return { state: 'failed', reason: job.failedReason ?? 'failed', error: errorFromLogs(logs), attempts: job.attemptsMade };
    }
    return undefined;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await Promise.allSettled([this.events.close(), this.queue.close()]);
    this.sub.disconnect();
    this.pub.disconnect();
  }
}
