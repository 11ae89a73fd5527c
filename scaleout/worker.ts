import { hostname } from 'node:os';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { ApiWorkflow, EngineEvent } from '../engine/index.js';
import { stringifyJson } from '../engine/index.js';
import { createHost, type Host, type HostOptions } from '../host/host.js';
import { batchJobFiles } from '../host/job-files.js';
import { previewJpeg, runJob } from '../host/run-job.js';
import { redisOptions } from './connection.js';
import {
  DEFAULT_QUEUE,
  cancelChannel,
  decodeJobData,
  encodeErrorLog,
  encodeEvent,
  eventChannel,
  jobExtraData,
  jobWorkflow,
  RemoteProtocolError,
  type RemoteEvent,
  type RemoteJobData,
  type RemoteJobResult,
} from './protocol.js';
import { RemoteInputError, collectOutputs, installInputs } from './files.js';

/**
 * NOTE: once running jobs are stopped (a second signal, or Redis unreachable), BullMQ gets this long to
 * settle before the connections are dropped: long enough to report a failure to a Redis that is up,
 * short enough that a worker without Redis still leaves promptly.
 */
export const SHUTDOWN_GRACE_MS = 3000;

/** A node failed inside the engine; BullMQ retries the job until its attempts are used up. */
export class RemoteExecutionError extends Error {
  override name = 'RemoteExecutionError';
}

export interface WorkerOptions {
  readonly url: string;
  readonly queue?: string;
  readonly prefix?: string;
  /** Jobs run at once on this process's engine (one model pool, one output cache). */
  readonly concurrency?: number;
  readonly host?: HostOptions;
  /** A job whose lock is not renewed for this long is taken back by another worker (BullMQ `lockDuration`). */
  readonly lockDurationMs?: number;
  /** How often this worker looks for stalled jobs of dead workers (BullMQ `stalledInterval`). */
  readonly stalledIntervalMs?: number;
  /** Times a job may stall (its worker died) before it fails. */
  readonly maxStalledCount?: number;
  readonly log?: (message: string) => void;
}

export interface RunningWorker {
  readonly id: string;
  readonly host: Host;
  /**
   * Stops taking jobs; waits for running ones unless `force` (which also stops them when the close is
   * already under way). Bounded while Redis is unreachable: running jobs are stopped and the worker
   * leaves within about SHUTDOWN_GRACE_MS.
   */
  close(force?: boolean): Promise<void>;
}

/**
 * `latentflow worker`: takes jobs from the BullMQ queue and runs them on the in-process engine.
 * Output names come from the job's tag (batch job id or prompt id), so a job re-run after a crash or
 * a stall writes the same files again. Events go to the job's pub/sub channel as they happen.
 */
export async function startWorker(opts: WorkerOptions): Promise<RunningWorker> {
  const log = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const connection = redisOptions(opts.url);
  const queueName = opts.queue ?? DEFAULT_QUEUE;
  const prefix = opts.prefix ?? 'bull';
  const id = `${hostname()}:${process.pid}`;
  const host = await createHost(opts.host);

  const pub = new Redis(connection);
  const sub = new Redis(connection);
  let lastError = '';
  const onError = (e: Error) => {
    if (e.message !== lastError) log(`redis: ${e.message}`);
    lastError = e.message;
  };
  pub.on('error', onError);
  sub.on('error', onError);
  const running = new Map<string, AbortController>();
  sub.on('message', (_channel: string, jobId: string) => running.get(jobId)?.abort());
  await sub.subscribe(cancelChannel(prefix, queueName));

  async function processJob(job: Job): Promise<RemoteJobResult> {
    const jobId = job.id ?? '';
    const startedAt = Date.now();
    let data: RemoteJobData;
    let workflow: ApiWorkflow;
    try {
      data = decodeJobData(job.data);
      workflow = jobWorkflow(data);
    } catch (e) {
      if (e instanceof RemoteProtocolError) throw new UnrecoverableError(`${e.name}: ${e.message}`);
      throw e;
    }
    const channel = eventChannel(prefix, queueName, jobId);
    let chain: Promise<unknown> = Promise.resolve();
    const publish = (ev: RemoteEvent | Promise<RemoteEvent>) => {
      chain = chain.then(async () => pub.publish(channel, encodeEvent(await ev))).catch(onError);
    };
    publish({ kind: 'start', worker: id, attempt: job.attemptsMade + 1, at: startedAt });
    const ac = new AbortController();
    running.set(jobId, ac);
    try {
      try {
        workflow = await installInputs(workflow, data.inputs, host.folders.input);
      } catch (e) {
        if (e instanceof RemoteInputError) throw new UnrecoverableError(`${e.name}: ${e.message}`);
        throw e;
      }
      const onEvent = (event: EngineEvent) => {
        if (event.type === 'progress' && event.preview) {
          const preview = event.preview;
          publish(previewJpeg(preview).then((jpeg): RemoteEvent => ({ kind: 'engine', worker: id, event, previewJpeg: Buffer.from(jpeg).toString('base64') })));
        } else publish({ kind: 'engine', worker: id, event });
      };
      const run = await runJob(
        host,
        {
          id: data.promptId,
          workflow,
          targets: data.targets,
          extraData: jobExtraData(data),
          previews: data.previews ?? true,
          batch: data.kind === 'batch',
          files: () => batchJobFiles(host.folders, data.fileTag),
        },
        { signal: ac.signal, onEvent },
      );
      if (run.invalid) {
        // Another worker has the same nodes and models or not; retrying here cannot help.
        throw new UnrecoverableError(`ValidationError on worker ${id}: ${run.invalid.error?.message ?? 'invalid workflow'} ${stringifyJson(run.invalid.node_errors)}`);
      }
      const r = run.result;
      await chain;
      if (r.status === 'error') {
        const err = r.error ?? { nodeId: '', nodeType: '', errorType: 'Error', message: 'failed' };
        await job.log(encodeErrorLog({ node: err.nodeId, node_type: err.nodeType, type: err.errorType, message: err.message }));
        throw new RemoteExecutionError(`${err.nodeId ? `node ${err.nodeId} (${err.nodeType}) ` : ''}${err.errorType}: ${err.message}`);
      }
      const outFiles = await collectOutputs(r.outputs, { output: host.folders.output, temp: host.folders.temp }, data.inlineMaxBytes);
      return {
        v: 1,
        status: r.status,
        outputs: stringifyJson(r.outputs),
        executed: r.executed,
        cached: r.cached,
        messages: stringifyJson(r.messages),
        files: outFiles,
        worker: id,
        startedAt,
        endedAt: Date.now(),
      };
    } finally {
      running.delete(jobId);
      await chain;
    }
  }

  const worker = new Worker(queueName, processJob, {
    connection,
    prefix,
    concurrency: Math.max(1, opts.concurrency ?? 1),
    lockDuration: opts.lockDurationMs ?? 30_000,
    stalledInterval: opts.stalledIntervalMs ?? 30_000,
    maxStalledCount: opts.maxStalledCount ?? 2,
    autorun: false,
  });
  worker.on('error', onError);
  worker.on('failed', (job, err) => log(`job ${job?.id ?? '?'} attempt ${job?.attemptsMade ?? '?'} failed: ${err.message}`));
  worker.on('completed', (job) => log(`job ${job.id ?? '?'} completed (attempt ${job.attemptsMade}) in ${Date.now() - (job.processedOn ?? Date.now())} ms`));
  void worker.run().catch(onError);
  await worker.waitUntilReady();

  // Stopping: jobs are aborted when forced or when Redis is unreachable (they could not report a result;
  // their locks expire and another worker re-runs them). From then on the Redis-bound steps of the close,
  // which otherwise wait for Redis forever (maxRetriesPerRequest: null), get SHUTDOWN_GRACE_MS.
  let onDeadline!: (v: 'deadline') => void;
  const deadline = new Promise<'deadline'>((resolve) => (onDeadline = resolve));
  let stopped = false;
  const stopJobs = () => {
    for (const ac of running.values()) ac.abort();
    if (stopped) return;
    stopped = true;
    setTimeout(() => onDeadline('deadline'), SHUTDOWN_GRACE_MS).unref();
  };
  const reachable = () => pub.status === 'ready' && sub.status === 'ready';
  const bounded = async (p: Promise<unknown>, what: string) => {
    if ((await Promise.race([p.then(() => 'done' as const, () => 'done' as const), deadline])) === 'deadline') log(`shutdown: ${what} did not finish (Redis unreachable); leaving anyway`);
  };

  let closed: Promise<void> | undefined;
  return {
    id,
    host,
    close(force = false) {
      if (force) stopJobs();
      closed ??= (async () => {
        if (!reachable()) stopJobs();
        const watch = setInterval(() => !reachable() && stopJobs(), 200);
        try {
          await bounded(worker.close(stopped), 'closing the queue worker');
        } finally {
          clearInterval(watch);
        }
        if (reachable()) await bounded(pub.quit(), 'closing the Redis connection');
        sub.disconnect();
        pub.disconnect();
        await bounded(worker.disconnect(), 'dropping the queue connections');
        await host.close();
      })();
      return closed;
    },
  };
}
