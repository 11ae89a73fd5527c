import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ApiWorkflow } from '../../engine/index.js';
import { createHost, type Host } from '../../host/host.js';
import { planBatch, type PlannedJob } from '../../cli/batch/plan.js';
import { Manifest } from '../../cli/batch/manifest.js';
import { runBatch, type BatchEvent, type BatchSummary } from '../../cli/batch/runner.js';
import { openRemoteBatch } from '../../scaleout/batch-executor.js';
import { SlowImage, FailingNode } from '../server/stub-nodes.js';

export async function tempDir(tag: string): Promise<string> {
  return mkdtemp(path.join(tmpdir(), `lf-${tag}-`));
}

/** SlowImage (steps x delay ms, with previews) -> SaveImage; `value` is what a sweep varies. */
export function slowWorkflow(steps: number, delayMs: number): ApiWorkflow {
  return {
    '1': { class_type: 'SlowImage', inputs: { steps, delay_ms: delayMs, value: 0.5, size: 8, seed: 1 } },
    '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'slow' } },
  };
}

export interface RemoteBatchRun {
  summary: BatchSummary;
  events: BatchEvent[];
  jobs: PlannedJob[];
  /** Workers that started each job, in order (more than one after a kill). */
  startedOn: Map<string, string[]>;
  endedOn: Map<string, { worker: string; attempts: number; state: string }>;
  host: Host;
  manifest: Manifest;
}

/** Plans `values.length` jobs of `wf` varying `target`, and runs them through Redis as `run --redis` does. */
export async function runRemoteBatch(
  url: string,
  wf: ApiWorkflow,
  target: string,
  values: readonly number[],
  opts: { attempts?: number; onStart?: (jobId: string, worker: string, run: { startedOn: Map<string, string[]> }) => void; signal?: AbortSignal } = {},
): Promise<RemoteBatchRun> {
  const base = await tempDir('dist-submit');
  const host = await createHost({ baseDir: base, extraNodes: [SlowImage, FailingNode] });
  const manifest = await Manifest.open(host.folders.output);
  const plan = planBatch(wf, values.map((v) => ({ label: `${target}=${v}`, overrides: [[target, v] as const] })), host.engine);
  const startedOn = new Map<string, string[]>();
  const endedOn = new Map<string, { worker: string; attempts: number; state: string }>();
  const executor = await openRemoteBatch({
    url,
    folders: host.folders,
    attempts: opts.attempts,
    backoffMs: 100,
    pollMs: 500,
    onRemoteStart: (jobId, worker) => {
      startedOn.set(jobId, [...(startedOn.get(jobId) ?? []), worker]);
      opts.onStart?.(jobId, worker, { startedOn });
    },
    onRemoteEnd: (jobId, info) => endedOn.set(jobId, info),
  });
  const events: BatchEvent[] = [];
  try {
    const summary = await runBatch({
      host,
      dirs: host.folders,
      manifest,
      jobs: plan.jobs,
      concurrency: 1,
      signal: opts.signal ?? new AbortController().signal,
      executor,
      onEvent: (e) => events.push(e),
    });
    return { summary, events, jobs: plan.jobs, startedOn, endedOn, host, manifest };
  } finally {
    await executor.close();
  }
}
