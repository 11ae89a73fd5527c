import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisProcess, SKIP_REASON, redisBinary } from '../fixtures/redis.js';
import { startWorkerProcess, type WorkerProcess } from './workers.js';
import { tempDir } from './setup.js';
import { startServerProcess, slowWorkflow, postJson, getJson, WsRecorder, type ServerProcess } from '../server/helpers.js';

const haveRedis = redisBinary() !== undefined;
if (!haveRedis) console.warn(SKIP_REASON);

type History = Record<string, { outputs: Record<string, { images: { filename: string; subfolder: string; type: string }[] }>; status: { status_str: string; completed: boolean } }>;

describe.skipIf(!haveRedis)('serve --redis: prompts run on workers, clients see the same API', () => {
  let redis: RedisProcess;
  let worker: WorkerProcess;
  let srv: ServerProcess;

  beforeAll(async () => {
    redis = await RedisProcess.start();
    worker = await startWorkerProcess(redis.url, await tempDir('sw'));
    srv = await startServerProcess({ args: ['--redis', redis.url] });
  });

  afterAll(async () => {
    await srv?.stop();
    await worker?.stop();
    await redis?.stop();
  });

  it('relays the worker events to the prompt client and writes history and the output file', async () => {
    const ws = await WsRecorder.open(srv.url, 'remote-client');
    const other = await WsRecorder.open(srv.url, 'someone-else');
    const r = await postJson(`${srv.url}/prompt`, { prompt: slowWorkflow({ steps: 3, delayMs: 30, value: 0.25, prefix: 'remote' }), client_id: 'remote-client', prompt_id: 'remote-1' });
    expect(r.status).toBe(200);
    await ws.done('remote-1');
    const types = ws.messages.filter((m) => m.data.prompt_id === 'remote-1').map((m) => m.type);
    expect(types.filter((t) => t === 'execution_start')).toHaveLength(1);
    expect(types.filter((t) => t === 'progress')).toHaveLength(3);
    expect(types).toContain('executed');
    expect(types.indexOf('execution_success')).toBeGreaterThan(types.lastIndexOf('progress'));
    expect(types.at(-1)).toBe('executing');
    expect(ws.binary.length).toBe(3);
    expect(other.messages.some((m) => m.data.prompt_id === 'remote-1')).toBe(false);
    const hist = await getJson<History>(`${srv.url}/history/remote-1`);
    expect(hist['remote-1']!.status).toMatchObject({ status_str: 'success', completed: true });
    const img = hist['remote-1']!.outputs['2']!.images[0]!;
    const view = await fetch(`${srv.url}/view?filename=${encodeURIComponent(img.filename)}&subfolder=${encodeURIComponent(img.subfolder)}&type=${img.type}`);
    expect(view.status).toBe(200);
    const bytes = Buffer.from(await view.arrayBuffer());
    expect(bytes.subarray(1, 4).toString()).toBe('PNG');
    ws.close();
    other.close();
  });

  it('reports a node failure after the job used its attempts, as one execution_error', async () => {
    const ws = await WsRecorder.open(srv.url, 'fail-client');
    const prompt = { ...slowWorkflow({ steps: 1, delayMs: 0, value: 0.6 }), '3': { class_type: 'FailingNode', inputs: { images: ['1', 0], message: 'remote boom' } } };
    expect((await postJson(`${srv.url}/prompt`, { prompt, client_id: 'fail-client', prompt_id: 'remote-fail' })).status).toBe(200);
    await ws.done('remote-fail');
    const errors = ws.messages.filter((m) => m.type === 'execution_error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.data).toMatchObject({ prompt_id: 'remote-fail', node_id: '3', node_type: 'FailingNode', exception_type: 'StubFailure' });
    expect(String(errors[0]!.data.exception_message)).toContain('remote boom');
    const hist = await getJson<History>(`${srv.url}/history/remote-fail`);
    expect(hist['remote-fail']!.status.status_str).toBe('error');
    ws.close();
  });
});
