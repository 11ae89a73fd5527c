/**
 * Scale-out over BullMQ: jobs/s with 1 and 2 `latentflow worker` processes on this machine, and the
 * submit-to-start latency (enqueue until a worker reports the job started). Cheap SlowImage jobs
 * (3 steps x 20 ms) so the numbers show the queue's overhead and parallelism, not model speed.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RedisProcess, SKIP_REASON, redisBinary } from '../test/fixtures/redis.js';
import { startWorkerProcess, type WorkerProcess } from '../test/scaleout/workers.js';
import { runRemoteBatch, slowWorkflow } from '../test/scaleout/setup.js';

const JOBS = 24;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

export default async function (): Promise<void> {
  if (!redisBinary()) {
    console.log(SKIP_REASON);
    return;
  }
  const redis = await RedisProcess.start();
  const workers: WorkerProcess[] = [];
  try {
    for (const n of [1, 2]) {
      while (workers.length < n) workers.push(await startWorkerProcess(redis.url, await mkdtemp(path.join(tmpdir(), 'lf-bench-w-'))));
      const submitted = Date.now();
      const firstStart = new Map<string, number>();
      const t0 = performance.now();
      const values = Array.from({ length: JOBS }, (_, i) => (i + 1) / (JOBS + 1) + n / 1000);
      const run = await runRemoteBatch(redis.url, slowWorkflow(3, 20), '1.value', values, {
        onStart: (jobId) => {
          if (!firstStart.has(jobId)) firstStart.set(jobId, Date.now());
        },
      });
      const s = (performance.now() - t0) / 1000;
      await run.host.close();
      if (run.summary.done !== JOBS) throw new Error(`only ${run.summary.done} of ${JOBS} jobs done`);
      const waits = [...firstStart.values()].map((t) => t - submitted);
      console.log(`${n} worker(s): ${JOBS} jobs in ${s.toFixed(2)} s = ${(JOBS / s).toFixed(1)} jobs/s; submit-to-start first ${Math.min(...waits)} ms, median ${median(waits)} ms`);
    }
    // Latency alone: one job at a time on an idle worker.
    const lat: number[] = [];
    for (let i = 0; i < 5; i++) {
      const submitted = Date.now();
      let started = 0;
      const run = await runRemoteBatch(redis.url, slowWorkflow(1, 0), '1.value', [0.9 - i / 100], { onStart: () => (started ||= Date.now()) });
      await run.host.close();
      lat.push(started - submitted);
    }
    console.log(`submit-to-start on an idle worker (includes planning and reading inputs): median ${median(lat)} ms over ${lat.length} jobs`);
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await redis.stop();
  }
}
