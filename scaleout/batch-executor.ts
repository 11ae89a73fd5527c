import { stringifyJson, writeFileDurable, type ExecutionResult } from '../engine/index.js';
import { errorResult, type JobDispatcher } from '../host/run-job.js';
import type { WrittenFile } from '../host/job-files.js';
import { DistributedClient, type DistributedClientOptions, type RemoteOutcome } from './client.js';
import { bullJobId, DEFAULT_INLINE_MAX_BYTES, resultMessages, resultOutputs, type RemoteJobData } from './protocol.js';
import { RemoteOutputError, collectInputs, placeOutputs } from './files.js';

export interface RemoteBatchOptions extends DistributedClientOptions {
  /** The batch's folders: inputs are read from here, results written here (the manifest's folder). */
  readonly folders: { readonly input: string; readonly output: string; readonly temp: string };
  readonly extraPngInfo?: Record<string, unknown>;
  readonly inlineMaxBytes?: number;
  /** Called when a worker starts a job (each attempt), with the worker's id. */
  readonly onRemoteStart?: (jobId: string, worker: string) => void;
  /** Called once per finished job with where it ran (tests and logs). */
  readonly onRemoteEnd?: (jobId: string, info: { worker: string; attempts: number; state: RemoteOutcome['state'] }) => void;
}

export interface RemoteBatchExecutor extends JobDispatcher {
  readonly client: DistributedClient;
  close(): Promise<void>;
}

/**
 * The `--redis` executor of the batch runner: each planned job becomes a BullMQ job whose id is
 * the batch's deterministic job id, so re-running the command attaches to queued or running jobs
 * and collects finished ones instead of adding them again. Results are written to the batch folder
 * under the worker's (job-id) names, then the job is dropped from Redis.
 */
export async function openRemoteBatch(opts: RemoteBatchOptions): Promise<RemoteBatchExecutor> {
  const client = await DistributedClient.open(opts);
  // fsync'd before the rename, as a local batch job's files are: the manifest records them next.
  const write = (file: string, data: Uint8Array) => writeFileDurable(file, data, 'lfjob-');
  return {
    client,
    async run(job, ctx) {
      const id = bullJobId('batch', job.id);
      const data: RemoteJobData = {
        v: 1,
        kind: 'batch',
        fileTag: job.id,
        promptId: job.id,
        workflow: stringifyJson(job.workflow),
        extraData: stringifyJson(opts.extraPngInfo ? { extra_pnginfo: opts.extraPngInfo } : {}),
        inputs: await collectInputs(job.workflow, opts.folders.input),
        inlineMaxBytes: opts.inlineMaxBytes ?? DEFAULT_INLINE_MAX_BYTES,
        submittedAt: Date.now(),
        previews: false,
      };
      const outcome = await client.run(id, data, {
        signal: ctx.signal,
        onEvent: (ev) => {
          if (ev.kind === 'start') {
            opts.onRemoteStart?.(job.id, ev.worker);
            return ctx.onStart();
          }
          ctx.onStart();
          // Terminal events come from the job's end in BullMQ, not from one attempt of it.
          if (ev.event.type === 'execution_error' || ev.event.type === 'execution_success' || ev.event.type === 'execution_interrupted') return;
          ctx.onEvent(ev.event);
        },
      });
      ctx.onStart();
      if (outcome.state === 'cancelled') {
        opts.onRemoteEnd?.(job.id, { worker: '', attempts: 0, state: 'cancelled' });
        return { result: { status: 'interrupted', promptId: job.id, outputs: {}, executed: [], cached: [], messages: [] }, written: [] };
      }
      if (outcome.state === 'failed') {
        opts.onRemoteEnd?.(job.id, { worker: '', attempts: outcome.attempts, state: 'failed' });
        const e = outcome.error;
        const suffix = outcome.attempts > 1 ? ` (after ${outcome.attempts} attempts)` : '';
        return { result: e ? errorResult(job.id, e.type, `${e.message}${suffix}`, e.node, e.node_type) : errorResult(job.id, 'RemoteJobError', `${outcome.reason}${suffix}`), written: [] };
      }
      const r = outcome.result;
      opts.onRemoteEnd?.(job.id, { worker: r.worker, attempts: outcome.attempts, state: 'completed' });
      let written: WrittenFile[];
      try {
        const placed = await placeOutputs(r.files.filter((f) => f.type === 'output'), opts.folders, write);
        written = placed.map((f) => ({ path: f.path, type: f.type, nodeId: f.node, sha256: f.sha256, bytes: f.bytes }));
      } catch (e) {
        if (e instanceof RemoteOutputError) return { result: errorResult(job.id, e.name, e.message), written: [] };
        throw e;
      }
      await client.forget(id);
      const result: ExecutionResult = { status: r.status, promptId: job.id, outputs: resultOutputs(r), executed: [...r.executed], cached: [...r.cached], messages: resultMessages(r) };
      return { result, written };
    },
    close: () => client.close(),
  };
}
