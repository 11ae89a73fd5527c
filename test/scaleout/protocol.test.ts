import { describe, expect, it } from 'vitest';
import { mkdtemp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { redisOptions, redactUrl, RedisUrlError } from '../../scaleout/connection.js';
import { bullJobId, decodeEvent, decodeJobData, encodeEvent, errorFromLogs, encodeErrorLog, jobWorkflow, RemoteProtocolError } from '../../scaleout/protocol.js';
import { collectInputs, installInputs, placeOutputs, REMOTE_INPUT_FOLDER, RemoteInputError, RemoteOutputError } from '../../scaleout/files.js';
import { stringifyJson, type ApiWorkflow } from '../../engine/index.js';

describe('redis URLs', () => {
  it('reads host, port, db, credentials and TLS', () => {
    expect(redisOptions('redis://10.0.0.5:6380/2')).toMatchObject({ host: '10.0.0.5', port: 6380, db: 2, maxRetriesPerRequest: null });
    expect(redisOptions('rediss://u:p%40ss@h')).toMatchObject({ host: 'h', port: 6379, db: 0, username: 'u', password: 'p@ss', tls: {} });
    expect(() => redisOptions('http://h')).toThrow(RedisUrlError);
    expect(() => redisOptions('redis://h/x')).toThrow(RedisUrlError);
    expect(redactUrl('redis://:secret@h:1')).not.toContain('secret');
  });
});

describe('protocol', () => {
  it('gives BullMQ-safe, deterministic ids', () => {
    expect(bullJobId('batch', '0123456789abcdef')).toBe('b-0123456789abcdef');
    const p = bullJobId('prompt', 'a:b:c');
    expect(p).toMatch(/^p-[0-9a-f]{32}$/);
    expect(bullJobId('prompt', 'a:b:c')).toBe(p);
  });

  it('round-trips events with 64-bit seeds and rejects foreign shapes', () => {
    const ev = { kind: 'engine' as const, worker: 'w', event: { type: 'executed' as const, data: { node: '1', display_node: '1', output: { seed: [18446744073709551615n] }, prompt_id: 'x' } } };
    expect(decodeEvent(encodeEvent(ev))).toEqual(ev);
    expect(() => decodeEvent('{"kind":"engine","worker":"w","event":{"type":"nope","data":{}}}')).toThrow(RemoteProtocolError);
    expect(() => decodeJobData({ v: 2, kind: 'batch' })).toThrow(RemoteProtocolError);
  });

  it('reads the structured error back from job logs', () => {
    const e = { node: '3', node_type: 'X', type: 'Boom', message: 'm' };
    expect(errorFromLogs(['other', encodeErrorLog({ ...e, message: 'old' }), encodeErrorLog(e)])).toEqual(e);
    expect(errorFromLogs(['nothing'])).toBeUndefined();
  });

  it('keeps exact seeds in job workflows', () => {
    const wf: ApiWorkflow = { '1': { class_type: 'K', inputs: { seed: 18446744073709551615n } } };
    const data = decodeJobData({ v: 1, kind: 'batch', fileTag: 't', promptId: 'p', workflow: stringifyJson(wf), extraData: '{}', inputs: [], inlineMaxBytes: 1, submittedAt: 0 });
    expect(jobWorkflow(data)['1']!.inputs.seed).toBe(18446744073709551615n);
  });
});

describe('input and output transport', () => {
  it('inlines inputs named by a workflow and installs them without clobbering other bytes', async () => {
    const sub = await mkdtemp(path.join(tmpdir(), 'lf-in-'));
    const work = await mkdtemp(path.join(tmpdir(), 'lf-wk-'));
    await writeFile(path.join(sub, 'a.png'), 'AAAA');
    const wf: ApiWorkflow = { '1': { class_type: 'LoadImage', inputs: { image: 'a.png [input]' } }, '2': { class_type: 'T', inputs: { text: 'not a file', up: '../etc/passwd' } } };
    const inputs = await collectInputs(wf, sub);
    expect(inputs.map((i) => [i.name, i.bytes, i.data !== undefined])).toEqual([['a.png', 4, true]]);
    expect(await installInputs(wf, inputs, work)).toBe(wf);
    expect(await readFile(path.join(work, 'a.png'), 'utf8')).toBe('AAAA');
    await writeFile(path.join(work, 'a.png'), 'BBBB');
    const moved = await installInputs(wf, inputs, work);
    expect(String(moved['1']!.inputs.image)).toContain(REMOTE_INPUT_FOLDER);
    expect(await readFile(path.join(work, 'a.png'), 'utf8')).toBe('BBBB');
    const big = await collectInputs(wf, sub, 2);
    expect(big[0]!.data).toBeUndefined();
    await expect(installInputs(wf, big, work)).rejects.toThrow(RemoteInputError);
  });

  it('places inlined outputs and refuses ones that are neither inlined nor on shared storage', async () => {
    const out = await mkdtemp(path.join(tmpdir(), 'lf-out-'));
    await mkdir(path.join(out, 'temp'));
    const sha = 'e8d4bec8dad9a9eb2d8f2c35bd1ab8bfc8fbd4d1ba2e0d6fcf5d4a3e1b0c9a87';
    const data = Buffer.from('hello');
    const { createHash } = await import('node:crypto');
    const real = createHash('sha256').update(data).digest('hex');
    const placed = await placeOutputs([{ node: '2', type: 'output', subfolder: 's', filename: 'x.png', sha256: real, bytes: 5, data: data.toString('base64') }], { output: out, temp: path.join(out, 'temp') });
    expect(await readFile(placed[0]!.path, 'utf8')).toBe('hello');
    await expect(placeOutputs([{ node: '2', type: 'output', subfolder: '', filename: 'y.png', sha256: sha, bytes: 5 }], { output: out, temp: out })).rejects.toThrow(RemoteOutputError);
    await expect(placeOutputs([{ node: '2', type: 'output', subfolder: '../..', filename: 'z.png', sha256: real, bytes: 5, data: data.toString('base64') }], { output: out, temp: out })).rejects.toThrow();
  });
});
