import { describe, expect, it } from 'vitest';
import { RedisProcess, SKIP_REASON, redisBinary } from '../fixtures/redis.js';
import { startWorkerProcess } from './workers.js';
import { runRemoteBatch, slowWorkflow, tempDir } from './setup.js';

const haveRedis = redisBinary() !== undefined;
if (!haveRedis) console.warn(SKIP_REASON);

/** Sends SIGTERM and resolves with the exit code, or 'hung' after 20 s (then kills it). */
async function terminate(w: Awaited<ReturnType<typeof startWorkerProcess>>): Promise<number | string | null> {
  const exited = new Promise<number | string | null>((resolve) => w.proc.once('exit', (code, signal) => resolve(signal ?? code)));
  w.proc.kill('SIGTERM');
  const outcome = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 20_000))]);
  if (outcome === 'hung') await w.kill9();
  return outcome;
}

describe.skipIf(!haveRedis)('latentflow worker shutdown (#22 item 7)', () => {
  it('exits on one SIGTERM while a job runs and Redis is stopped (the job is stopped, not waited for)', async () => {
    const redis = await RedisProcess.start();
    const w = await startWorkerProcess(redis.url, await tempDir('wterm-job'));
    const ac = new AbortController();
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const batch = runRemoteBatch(redis.url, slowWorkflow(400, 25), '1.value', [0.5], { signal: ac.signal, onStart: () => started() }).catch(() => undefined);
    await running;
    await redis.stop();
    await new Promise((r) => setTimeout(r, 500));
    const outcome = await terminate(w);
    ac.abort();
    expect(outcome, w.output()).toBe(0);
    expect(w.output()).toContain('finishing running jobs');
    void batch;
  });


  it('exits on one SIGTERM within a bounded time while Redis is stopped', async () => {
    const redis = await RedisProcess.start();
    const w = await startWorkerProcess(redis.url, await tempDir('wterm'));
    await redis.stop();
    // Let the worker notice: its connections are now reconnecting.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await terminate(w), w.output()).toBe(0);
  });
});
