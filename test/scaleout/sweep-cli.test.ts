import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { RedisProcess, SKIP_REASON, redisBinary } from '../fixtures/redis.js';
import { startWorkerProcess, type WorkerProcess } from './workers.js';
import { tempDir } from './setup.js';
import { spawn } from 'node:child_process';
import { Queue } from 'bullmq';
import { redisOptions } from '../../scaleout/connection.js';
import { BIN, makeBase, runCli } from '../cli/batch/helpers.js';

const haveRedis = redisBinary() !== undefined;
if (!haveRedis) console.warn(SKIP_REASON);

function completions(workers: readonly WorkerProcess[]): string[] {
  return workers.flatMap((w) => [...w.output().matchAll(/job (\S+) completed/g)].map((m) => m[1]!));
}

describe.skipIf(!haveRedis)('latentflow run --sweep --redis', () => {
  let redis: RedisProcess;
  let workers: WorkerProcess[] = [];

  beforeAll(async () => {
    redis = await RedisProcess.start();
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await redis?.stop();
  });

  it('enqueues a 12-job sweep, waits for it, and a re-run neither re-enqueues queued jobs nor re-runs finished ones', async () => {
    const base = await makeBase();
    const args = ['run', 'wf.json', '--sweep', '2.width=8..19', '--redis', redis.url, '--output', 'out'];
    // No worker yet: the first run is killed while every job waits in the queue.
    const first = spawn(process.execPath, [BIN, ...args], { cwd: base, stdio: 'ignore' });
    const firstExit = new Promise<string | null>((resolve) => first.once('exit', (_code, signal) => resolve(signal)));
    const queue = new Queue('latentflow', { connection: redisOptions(redis.url) });
    const deadline = Date.now() + 30_000;
    while ((await queue.getWaitingCount()) < 12 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await queue.getWaitingCount()).toBe(12);
    first.kill('SIGKILL');
    expect(await firstExit).toBe('SIGKILL');

    workers = await Promise.all([startWorkerProcess(redis.url, await tempDir('cw1')), startWorkerProcess(redis.url, await tempDir('cw2'))]);
    const second = await runCli(args, base);
    expect(second.stderr).toContain('12 jobs: 12 done now');
    expect(second.code).toBe(0);
    const done = completions(workers);
    expect(done).toHaveLength(12);
    expect(new Set(done).size).toBe(12);
    const files = (await readdir(path.join(base, 'out', 'scaled'))).sort();
    expect(files).toHaveLength(12);
    const manifest = (await readFile(path.join(base, 'out', 'manifest.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { status: string; outputs: { file: string }[] });
    expect(manifest.filter((r) => r.status === 'done')).toHaveLength(12);

    const third = await runCli(args, base);
    expect(third.code).toBe(0);
    expect(third.stderr).toContain('12 done before');
    expect(completions(workers)).toHaveLength(12);
    expect(await queue.getJobCounts('waiting', 'active', 'completed', 'failed')).toMatchObject({ waiting: 0, active: 0, completed: 0, failed: 0 });
    await queue.close();
  });
});
