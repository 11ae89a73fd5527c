/**
 * Which job the current code runs for. Hosts (the server's runner, the CLI's batch runner) run each job
 * inside `runInJob`; the U-Net batching point reads `currentLane()` to schedule and merge requests.
 * NOTE: AsyncLocalStorage carries the job through the engine and the nodes (as a trace context would),
 * so neither the domain-free engine nor the sampler signature has to know about scheduling.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { JobLane } from './step-scheduler.js';

const scope = new AsyncLocalStorage<JobLane>();

export function runInJob<T>(lane: JobLane, fn: () => T): T {
  return scope.run(lane, fn);
}

export function currentLane(): JobLane | undefined {
  return scope.getStore();
}
