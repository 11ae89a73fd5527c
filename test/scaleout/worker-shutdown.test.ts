import { describe, expect, it } from 'vitest';
import { RedisProcess, SKIP_REASON, redisBinary } from '../fixtures/redis.js';
import { startWorkerProcess } from './workers.js';
import { tempDir } from './setup.js';

const haveRedis = redisBinary() !== undefined;
if (!haveRedis) console.warn(SKIP_REASON);

describe.skipIf(!haveRedis)('latentflow worker shutdown (#22 item 7)', () => {
  it('exits on one SIGTERM within a bounded time while Redis is stopped', async () => {
    const redis = await RedisProcess.start();
    const w = await startWorkerProcess(redis.url, await tempDir('wterm'));
    await redis.stop();
    // Let the worker notice: its connections are now reconnecting.
    await new Promise((r) => setTimeout(r, 1500));
    const exited = new Promise<number | string | null>((resolve) => w.proc.once('exit', (code, signal) => resolve(signal ?? code)));
    w.proc.kill('SIGTERM');
    const outcome = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 20_000))]);
    if (outcome === 'hung') await w.kill9();
    expect(outcome, w.output()).toBe(0);
  });
});
