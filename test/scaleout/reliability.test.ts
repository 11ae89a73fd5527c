import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { Queue } from 'bullmq';
import { redisOptions } from '../../scaleout/connection.js';
import { bullJobId } from '../../scaleout/protocol.js';
import { RedisProcess, SKIP_REASON, redisBinary } from '../fixtures/redis.js';
import { startWorkerProcess, type WorkerProcess } from './workers.js';
import { runRemoteBatch, slowWorkflow, tempDir } from './setup.js';

const haveRedis = redisBinary() !== undefined;
if (!haveRedis) console.warn(SKIP_REASON);

const values = Array.from({ length: 12 }, (_, i) => (i + 1) / 20);

async function outputFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.endsWith('.png')).sort();
}

describe.skipIf(!haveRedis)('scale-out over two worker processes', () => {
  let redis: RedisProcess;
  let workers: WorkerProcess[] = [];

  beforeAll(async () => {
    redis = await RedisProcess.start();
    workers = await Promise.all([startWorkerProcess(redis.url, await tempDir('w1')), startWorkerProcess(redis.url, await tempDir('w2'))]);
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await redis?.stop();
  });

  async function replaceDeadWorkers(): Promise<void> {
    workers = await Promise.all(workers.map(async (w) => (w.proc.exitCode === null && w.proc.signalCode === null ? w : startWorkerProcess(redis.url, w.baseDir))));
  }

  it('spreads a 12-job sweep over both workers, each job done once with its own file', async () => {
    const run = await runRemoteBatch(redis.url, slowWorkflow(3, 60), '1.value', values);
    expect(run.summary).toMatchObject({ total: 12, done: 12, failed: [], interrupted: 0, pending: 0 });
    const used = new Set([...run.endedOn.values()].map((e) => e.worker));
    expect(used).toEqual(new Set(workers.map((w) => w.id)));
    const files = await outputFiles(run.host.folders.output);
    expect(files).toHaveLength(12);
    for (const j of run.jobs) {
      const rec = run.manifest.get(j.id)!;
      expect(rec.status).toBe('done');
      expect(rec.outputs[0]!.file).toContain(j.id);
      expect(await run.manifest.isComplete(j.id)).toBe(true);
    }
    // Progress bars got the engine's events, without the per-attempt terminal ones.
    expect(run.events.filter((e) => e.type === 'engine' && e.event.type === 'progress').length).toBe(36);
    expect(run.events.filter((e) => e.type === 'job_start')).toHaveLength(12);
    await run.host.close();
  });

  it('finishes all 12 jobs exactly once when a worker is killed with -9 mid-job', async () => {
    let victimJob: string | undefined;
    const victim = workers[0]!;
    const run = await runRemoteBatch(redis.url, slowWorkflow(4, 150), '1.value', values.map((v) => v + 0.001), {
      onStart: (jobId, worker, { startedOn }) => {
        // Kill once the victim has finished at least one job and just started another.
        const victimStarts = [...startedOn.values()].flat().filter((w) => w === victim.id).length;
        if (victimJob === undefined && worker === victim.id && victimStarts >= 2) {
          victimJob = jobId;
          void victim.kill9();
        }
      },
    });
    expect(victimJob).toBeDefined();
    expect(run.summary).toMatchObject({ total: 12, done: 12, failed: [], interrupted: 0 });
    // The killed job was taken over by the other worker (stalled-job recovery).
    expect(run.startedOn.get(victimJob!)).toEqual([victim.id, workers[1]!.id]);
    expect(run.endedOn.get(victimJob!)?.worker).toBe(workers[1]!.id);
    const ends = run.events.filter((e) => e.type === 'job_end');
    expect(ends).toHaveLength(12);
    expect(new Set(ends.map((e) => (e.type === 'job_end' ? e.job : ''))).size).toBe(12);
    expect(await outputFiles(run.host.folders.output)).toHaveLength(12);
    await run.host.close();
    await replaceDeadWorkers();
  });

  it('loses no acknowledged job when Redis stops for a few seconds and restarts (append-only file)', async () => {
    let stopped: Promise<void> | undefined;
    const run = await runRemoteBatch(redis.url, slowWorkflow(3, 100), '1.value', values.map((v) => v + 0.002), {
      onStart: (_jobId, _worker, { startedOn }) => {
        if (stopped === undefined && startedOn.size >= 4) {
          stopped = (async () => {
            await redis.stop();
            await new Promise((r) => setTimeout(r, 3000));
            await redis.restart();
          })();
        }
      },
    });
    await stopped;
    expect(stopped).toBeDefined();
    expect(run.summary).toMatchObject({ total: 12, done: 12, failed: [], interrupted: 0 });
    expect(await outputFiles(run.host.folders.output)).toHaveLength(12);
    await run.host.close();
    await replaceDeadWorkers();
  });

  it('ends a job that fails on every attempt as failed, with its reason, after N attempts', async () => {
    const wf = { ...slowWorkflow(1, 0), '3': { class_type: 'FailingNode', inputs: { images: ['1', 0], message: 'boom on purpose' } } };
    const run = await runRemoteBatch(redis.url, wf, '1.value', [0.77], { attempts: 2 });
    expect(run.summary.failed).toHaveLength(1);
    const rec = run.manifest.get(run.jobs[0]!.id)!;
    expect(rec.status).toBe('failed');
    expect(rec.error).toMatchObject({ node: '3', node_type: 'FailingNode', type: 'StubFailure' });
    expect(rec.error!.message).toContain('boom on purpose');
    expect(rec.error!.message).toContain('after 2 attempts');
    const queue = new Queue('latentflow', { connection: redisOptions(redis.url) });
    const job = await queue.getJob(bullJobId('batch', run.jobs[0]!.id));
    expect(await job!.getState()).toBe('failed');
    expect(job!.attemptsMade).toBe(2);
    expect(job!.failedReason).toContain('boom on purpose');
    await queue.close();
    expect(run.startedOn.get(run.jobs[0]!.id)).toHaveLength(2);
    await run.host.close();
    expect(path.basename(run.manifest.file)).toBe('manifest.jsonl');
  });
});
