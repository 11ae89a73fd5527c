import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, symlinkSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import http from 'node:http';
import path from 'node:path';
import WebSocket from 'ws';
import { startServerProcess, tempBase, postJson, WsRecorder, REPO, type ServerProcess } from './helpers.js';

let srv: ServerProcess;
let secret: string;

beforeAll(async () => {
  const base = tempBase('sec');
  const outside = tempBase('outside');
  secret = path.join(outside, 'secret.txt');
  writeFileSync(secret, 'TOP-SECRET');
  mkdirSync(path.join(base, 'output'), { recursive: true });
  mkdirSync(path.join(base, 'input'), { recursive: true });
  symlinkSync(secret, path.join(base, 'output', 'link.png'));
  symlinkSync(outside, path.join(base, 'output', 'dirlink'));
  symlinkSync(outside, path.join(base, 'input', 'dirlink'));
  writeFileSync(path.join(base, 'output', 'page.html'), '<script>alert(1)</script>');
  writeFileSync(path.join(base, 'output', 'pic.svg'), '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
  srv = await startServerProcess({ baseDir: base, args: ['--max-upload-size', '1'] });
});
afterAll(async () => {
  await srv?.stop();
});

const TRAVERSALS = [
  'filename=../../etc/passwd',
  'filename=..%2F..%2Fetc%2Fpasswd',
  'filename=%2E%2E%2F%2E%2E%2Fetc%2Fpasswd',
  'filename=/etc/passwd',
  'filename=%2Fetc%2Fpasswd',
  'filename=..%5C..%5Cetc%5Cpasswd',
  'filename=C:%5Cwindows%5Cwin.ini',
  'filename=passwd&subfolder=../../etc',
  'filename=passwd&subfolder=%2E%2E%2F%2E%2E%2Fetc',
  'filename=passwd&subfolder=/etc',
  'filename=secret.txt%00.png',
  'filename=link.png',
  'filename=secret.txt&subfolder=dirlink',
  'filename=secret.txt&subfolder=dirlink&type=input',
  'filename=secret.txt&type=../output',
  'filename=..&subfolder=dirlink',
  'filename=secret.txt&subfolder=dirlink/.',
];

describe('security and robustness', () => {
  it('lets no traversal escape /view', async () => {
    for (const q of TRAVERSALS) {
      const res = await fetch(`${srv.url}/view?${q}`);
      const body = await res.text();
      expect(body, q).not.toContain('TOP-SECRET');
      expect([400, 403, 404], q).toContain(res.status);
    }
  });

  it('never serves HTML, JS or SVG inline', async () => {
    for (const name of ['page.html', 'pic.svg']) {
      const res = await fetch(`${srv.url}/view?filename=${name}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/octet-stream');
      expect(res.headers.get('content-disposition')).toMatch(/^attachment/);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });

  it('keeps uploads inside their folder and enforces the size limit', async () => {
    const up = async (filename: string, fields: Record<string, string> = {}, size = 10) => {
      const form = new FormData();
      form.append('image', new Blob([new Uint8Array(size)]), filename);
      for (const [k, v] of Object.entries(fields)) form.append(k, v);
      return fetch(`${srv.url}/upload/image`, { method: 'POST', body: form });
    };
    for (const [name, fields] of [
      ['../evil.png', {}],
      ['..\\evil.png', {}],
      ['/tmp/evil.png', {}],
      ['ok.png', { subfolder: '../../x' }],
      ['ok.png', { subfolder: '/tmp' }],
      ['ok.png', { subfolder: 'dirlink' }],
      ['ok.png', { subfolder: 'dirlink/new' }],
      ['ok.png', { type: 'secret' }],
    ] as const) {
      const res = await up(name, fields);
      expect([400, 403], `${name} ${JSON.stringify(fields)}`).toContain(res.status);
    }
    expect(readdirSync(path.dirname(secret))).toEqual(['secret.txt']);
    expect(existsSync(path.join(srv.baseDir, 'evil.png'))).toBe(false);
    expect((await up('big.png', {}, 2 * 1024 * 1024)).status).toBe(413);
    expect((await fetch(`${srv.url}/upload/image`, { method: 'POST', body: 'not multipart', headers: { 'Content-Type': 'text/plain' } })).status).toBe(400);
  });

  it('answers malformed JSON, wrong types and giant bodies with 4xx', async () => {
    const bodies: unknown[] = [
      '{',
      'null',
      '[]',
      '"str"',
      '{"prompt": 5}',
      '{"prompt": []}',
      '{"prompt": {"1": 5}}',
      '{"prompt": {"1": {"class_type": 5, "inputs": {}}}}',
      '{"prompt": {"1": {"class_type": "SaveImage", "inputs": {"images": ["1", 0]}}}}',
      '{"prompt": {"1": {"class_type": "SaveImage", "inputs": {"images": ["9", "x"]}}}}',
      { prompt: {}, number: 'abc' },
      { prompt: {}, client_id: 7 },
      { prompt: {}, extra_data: [] },
      { prompt: {}, prompt_id: { a: 1 } },
      { prompt: {}, partial_execution_targets: 'x' },
      '\u0000\u0001garbage',
    ];
    for (const b of bodies) {
      const r = await postJson(`${srv.url}/prompt`, b);
      expect(r.status, JSON.stringify(b)).toBeGreaterThanOrEqual(400);
      expect(r.status, JSON.stringify(b)).toBeLessThan(500);
      expect(r.json, JSON.stringify(b)).toMatchObject({ error: { type: expect.any(String) }, node_errors: expect.any(Object) });
    }
    for (const [url, b] of [
      ['/queue', { delete: 'x' }],
      ['/history', { delete: [1, 2] }],
      ['/interrupt', { prompt_id: 5 }],
      ['/queue', '{{'],
    ] as const) {
      const r = await postJson(`${srv.url}${url}`, b);
      expect(r.status, url).toBe(400);
    }
    expect((await fetch(`${srv.url}/history?max_items=abc`)).status).toBe(400);
    expect((await fetch(`${srv.url}/history/%E0%A4%A`)).status).toBe(400);
    const giant = await fetch(`${srv.url}/prompt`, { method: 'POST', body: 'x'.repeat(17 * 1024 * 1024) });
    expect(giant.status).toBe(413);
    const stillUp = await fetch(`${srv.url}/prompt`);
    expect(stillUp.status).toBe(200);
  });

  it('answers garbage on the raw socket with 400 and stays up', async () => {
    const reply = await new Promise<string>((resolve) => {
      const s = net.connect(srv.port, '127.0.0.1', () => s.write('\x00\x01\x02 GARBAGE\r\n\r\n'));
      let got = '';
      s.on('data', (d) => (got += d.toString()));
      s.on('close', () => resolve(got));
      s.on('error', () => resolve(got));
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    expect((await fetch(`${srv.url}/prompt`)).status).toBe(200);
  });

  it('closes WebSockets that send garbage', async () => {
    for (const payload of ['not json', Buffer.from([1, 2, 3]), '{"no":"type"}']) {
      const ws = await WsRecorder.open(srv.url, 'garbage');
      const code = await new Promise<number>((resolve) => {
        ws.ws.on('close', (c) => resolve(c));
        ws.ws.send(payload);
      });
      expect([1003, 1007]).toContain(code);
    }
    const big = await WsRecorder.open(srv.url, 'big');
    const code = await new Promise<number>((resolve) => {
      big.ws.on('close', (c) => resolve(c));
      big.ws.send('x'.repeat(200 * 1024));
    });
    expect(code).toBe(1009);
    expect((await fetch(`${srv.url}/prompt`)).status).toBe(200);
  });

  it('refuses cross-origin POSTs and WebSocket upgrades, allows same-origin ones', async () => {
    const evil = await postJson(`${srv.url}/prompt`, { prompt: {} }, { Origin: 'http://evil.example' });
    expect(evil.status).toBe(403);
    const same = await postJson(`${srv.url}/interrupt`, {}, { Origin: srv.url });
    expect(same.status).toBe(200);
    const otherPort = await postJson(`${srv.url}/interrupt`, {}, { Origin: `http://127.0.0.1:${srv.port + 1}` });
    expect(otherPort.status).toBe(403);
    const wsStatus = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${srv.url.replace('http', 'ws')}/ws`, { headers: { Origin: 'http://evil.example' } });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
    });
    expect(wsStatus).toBe(403);
    const rebind = await new Promise<number>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: srv.port, path: '/queue', headers: { Host: `evil.example:${srv.port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });
    expect(rebind).toBe(403);
  });
});

describe('token', () => {
  it('refuses to listen beyond loopback without a token', () => {
    const r = spawnSync(process.execPath, [path.join(REPO, 'bin/latentflow.js'), 'serve', '--listen', '0.0.0.0', '--port', '0', '--base-dir', tempBase('notoken'), '--no-toyworld'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('--token');
  });

  it('requires the bearer token on the API and the WebSocket', async () => {
    const s = await startServerProcess({ args: ['--listen', '0.0.0.0', '--token', 's3cret'] });
    const url = `http://127.0.0.1:${s.port}`;
    try {
      expect((await fetch(`${url}/queue`)).status).toBe(401);
      expect((await fetch(`${url}/queue`, { headers: { Authorization: 'Bearer wrong' } })).status).toBe(401);
      expect((await fetch(`${url}/queue`, { headers: { Authorization: 'Bearer s3cret' } })).status).toBe(200);
      expect((await postJson(`${url}/prompt`, { prompt: {} })).status).toBe(401);
      const denied = await new Promise<number>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${s.port}/ws?clientId=a`);
        ws.on('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => resolve(101));
      });
      expect(denied).toBe(401);
      const ok = await WsRecorder.open(url, 'a', {}, '&token=s3cret');
      expect((await ok.waitFor((m) => m.type === 'status')).type).toBe('status');
      ok.close();
    } finally {
      await s.stop();
    }
  });
});
