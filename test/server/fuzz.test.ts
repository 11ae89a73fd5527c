/**
 * A bounded, seeded fuzz of every HTTP route of server/app.ts and the WebSocket: malformed bodies,
 * multipart edge cases, odd ids (`__proto__`, `constructor`, very long, unicode), odd sizes.
 * Asserts that the process stays up, that no request gets a 5xx (or a dropped connection), and
 * that GET /system_stats still answers afterwards. Reproduce a failure with LF_FUZZ_SEED=<seed>.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import sharp from 'sharp';
import WebSocket from 'ws';
import { REPO, startServerProcess, tempBase, type ServerProcess } from './helpers.js';
import { bombPng } from '../fixtures/png-bytes.js';

const SEED = Number(process.env.LF_FUZZ_SEED ?? 20250611);
const TIME_BUDGET_MS = 14_000;
const MAX_REQUESTS = 700;
const MAX_UPLOAD_MIB = 1;

/** mulberry32: a small seeded PRNG, so a failing run can be replayed. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  return { next, int, pick, chance: (p: number) => next() < p };
}
type Rng = ReturnType<typeof prng>;

const ODD_IDS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '__defineGetter__', 'valueOf', '', ' ', '0', '-1', '1e999', '🙂 ünïcode ✓', '名前', 'x'.repeat(300), 'y'.repeat(5000), '../../etc/passwd', '%00', 'a/b', 'a\\b', 'null', 'undefined', '1'];
const ODD_STRINGS = [...ODD_IDS, '\u0000', '\r\n', '<script>', 'é'.repeat(200), 'input', 'output', 'temp', 'webp;90', 'jpeg;0', 'png;101', 'a', 'rgb', 'rgba', 'true', '1', '-5', '99999999999999999999'];
const CLASSES = ['SlowImage', 'SaveImage', 'PreviewImage', 'LoadImage', 'ImageScale', 'EmptyImage', 'FailingNode', 'Nope', '', '__proto__', 'constructor', 'toString'];

function oddNumber(r: Rng): number | string {
  return r.pick<number | string>([0, -1, 1, 1.5, -0.0, 1e308, -1e308, 2 ** 53 + 1, 255, 256, 65535, 1e9, 3]);
}

function oddValue(r: Rng, depth: number): unknown {
  switch (r.int(depth > 3 ? 4 : 7)) {
    case 0:
      return r.pick(ODD_STRINGS);
    case 1:
      return oddNumber(r);
    case 2:
      return r.pick([true, false, null]);
    case 3:
      return [r.pick(ODD_IDS), r.pick<unknown>([0, 1, -1, 99, 1.5, 'x', null])];
    case 4:
      return Array.from({ length: r.int(4) }, () => oddValue(r, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = r.int(4); i > 0; i--) Object.defineProperty(o, r.pick(ODD_IDS), { value: oddValue(r, depth + 1), enumerable: true, configurable: true, writable: true });
      return o;
    }
  }
}

/** A prompt that is sometimes valid, often not: odd ids, odd classes, odd links and values. */
function oddPrompt(r: Rng): Record<string, unknown> {
  const ids = Array.from({ length: 1 + r.int(4) }, () => (r.chance(0.5) ? r.pick(ODD_IDS) : String(r.int(5))));
  const prompt: Record<string, unknown> = {};
  for (const id of ids) {
    const cls = r.pick(CLASSES);
    let inputs: Record<string, unknown>;
    if (cls === 'SlowImage' && r.chance(0.6)) inputs = { steps: 1 + r.int(2), delay_ms: r.int(3), value: r.next(), size: 1 + r.int(8), seed: r.int(100) };
    else if ((cls === 'SaveImage' || cls === 'PreviewImage') && r.chance(0.6)) inputs = { images: [r.pick(ids), r.pick([0, 0, 1, -1])], filename_prefix: r.pick(['fuzz', 'fuzz/sub', '../up', '/abs', 'a'.repeat(300), '🙂', '%date:yyyy%', 'a\\b']) };
    else if (cls === 'LoadImage') inputs = { image: r.pick(['ok.png', 'bomb.png', 'text.png', 'nope.png', '../x.png', ...ODD_IDS]) };
    else inputs = oddValue(r, 1) as Record<string, unknown>;
    Object.defineProperty(prompt, id, { value: r.chance(0.9) ? { class_type: cls, inputs } : oddValue(r, 1), enumerable: true, configurable: true, writable: true });
  }
  return prompt;
}

interface Req {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  what: string;
}

function json(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? String(x) : x));
}

/** Bodies a JSON route may get: objects of odd fields, and text that is not quite JSON. */
function oddJsonBody(r: Rng, fields: Record<string, (r: Rng) => unknown>): string {
  switch (r.int(9)) {
    case 0:
      return '';
    case 1:
      return r.pick(['{', '}', '[]', 'null', '"x"', '5', '{"a":', '{"__proto__": {"x": 1}}', '{"a": 1e99999}', '\u0000\u0001', '{"a": "\\ud800"}', '{"a": 123456789012345678901234567890}', '\xff\xfe']);
    case 2:
      return '['.repeat(20_000) + ']'.repeat(20_000);
    case 3:
      return json(oddValue(r, 0));
    default: {
      const o: Record<string, unknown> = {};
      for (const [k, gen] of Object.entries(fields)) if (r.chance(0.7)) o[k] = r.chance(0.8) ? gen(r) : oddValue(r, 1);
      if (r.chance(0.3)) Object.defineProperty(o, r.pick(ODD_IDS), { value: oddValue(r, 1), enumerable: true });
      return json(o);
    }
  }
}

function query(r: Rng, params: Record<string, readonly string[]>): string {
  const parts: string[] = [];
  for (const [k, values] of Object.entries(params)) if (r.chance(0.7)) parts.push(`${k}=${encodeURIComponent(r.chance(0.8) ? r.pick(values) : r.pick(ODD_STRINGS))}`);
  if (r.chance(0.2)) parts.push(r.pick(['%E0%A4%A', '%', 'a=%ZZ', '&&&', `${encodeURIComponent(r.pick(ODD_IDS))}=1`]));
  return parts.length ? `?${parts.join('&')}` : '';
}

function seg(r: Rng): string {
  return r.chance(0.15) ? r.pick(['%E0%A4%A', '%ff', '%2e%2e', '..', '%2F']) : encodeURIComponent(r.pick(ODD_IDS) || 'x');
}

/** One multipart form, well-formed or broken in one of the ways clients and attackers break them. */
function multipart(r: Rng, images: Record<string, Buffer>, mask: boolean): { body: Buffer; type: string; what: string } {
  const boundary = r.pick(['B', 'xYz123', '----fuzz', 'a'.repeat(70)]);
  const part = (name: string, value: Buffer | string, filename?: string, type = 'image/png') =>
    Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"${filename !== undefined ? `; filename="${filename}"` : ''}\r\n${filename !== undefined ? `Content-Type: ${type}\r\n` : ''}\r\n`),
      Buffer.isBuffer(value) ? value : Buffer.from(value),
      Buffer.from('\r\n'),
    ]);
  const imageName = r.pick(Object.keys(images));
  const fileName = r.pick(['a.png', 'ok.png', '', '.hidden.png', '../evil.png', 'sub/x.png', 'C:\\x.png', 'é🙂.png', 'x'.repeat(300) + '.png', 'y'.repeat(196) + '.png', '__proto__', 'constructor.png', 'a\u0001.png']);
  const parts: Buffer[] = [];
  const fieldName = r.chance(0.85) ? 'image' : r.pick(['file', '', '__proto__', 'image[]']);
  parts.push(part(fieldName, images[imageName]!, fileName));
  if (r.chance(0.2)) parts.push(part('image', images[r.pick(Object.keys(images))]!, 'second.png'));
  if (r.chance(0.5)) parts.push(part('type', r.pick(['input', 'output', 'temp', 'constructor', '', '__proto__'])));
  if (r.chance(0.5)) parts.push(part('subfolder', r.pick(['', 'sub', 'a/b', '../x', '/abs', 'x'.repeat(300), '🙂', '__proto__', 'constructor'])));
  if (r.chance(0.3)) parts.push(part('overwrite', r.pick(['true', '1', 'false', 'x'])));
  if (mask && r.chance(0.8)) parts.push(part('original_ref', r.pick([json({ filename: 'ok.png', type: 'input', subfolder: '' }), json({ filename: 'bomb.png', type: 'input' }), json({ filename: 'text.png', type: 'input' }), json({ filename: '../x' }), '{', '[]', 'null', json({ filename: 5 }), json({ filename: 'ok.png', type: '__proto__' })])));
  if (r.chance(0.1)) for (let i = 0; i < 25; i++) parts.push(part(`f${i}`, 'v'));
  if (r.chance(0.1)) parts.push(part('big', 'z'.repeat(70 * 1024)));
  let body = Buffer.concat([...parts, Buffer.from(`--${boundary}--\r\n`)]);
  let what = `multipart ${fieldName}/${fileName.slice(0, 30)}/${imageName}`;
  const breakage = r.int(8);
  if (breakage === 0) {
    body = body.subarray(0, r.int(body.length));
    what += ' cut';
  } else if (breakage === 1) {
    const name = r.pick(['image', 'image', 'other', '']);
    body = Buffer.concat([...parts.slice(1), Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="a.png"\r\nContent-Type: image/png\r\n\r\nABC`)]);
    what += ' ends inside a part';
  } else if (breakage === 2) {
    body = Buffer.from(body.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
    what += ' LF only';
  }
  const good = `multipart/form-data; boundary=${boundary}`;
  const type = r.pick([good, good, good, good, good, 'multipart/form-data', `multipart/form-data; boundary=other`, 'application/json', 'text/plain', `multipart/mixed; boundary=${boundary}`]);
  return { body, type, what };
}

type Gen = (r: Rng, images: Record<string, Buffer>) => Req;

const anyId = (r: Rng) => r.pick(ODD_IDS);
const ids = (r: Rng) => Array.from({ length: r.int(4) }, () => anyId(r));

/** Every route of server/app.ts, by the key it has there. */
const ROUTES: Record<string, Gen> = {
  'GET /prompt': () => ({ method: 'GET', path: '/prompt', what: '' }),
  'POST /prompt': (r) => ({
    method: 'POST',
    path: '/prompt',
    body: oddJsonBody(r, { prompt: oddPrompt, client_id: anyId, prompt_id: anyId, number: oddNumber, front: (x) => x.chance(0.5), extra_data: (x) => oddValue(x, 1), partial_execution_targets: ids }),
    what: '',
  }),
  'GET /queue': () => ({ method: 'GET', path: '/queue', what: '' }),
  'POST /queue': (r) => ({ method: 'POST', path: '/queue', body: oddJsonBody(r, { clear: (x) => x.pick([true, false, 1, 'yes']), delete: ids }), what: '' }),
  'GET /history': (r) => ({ method: 'GET', path: `/history${query(r, { max_items: ['0', '1', '5', '-1', '999999999', '1.5', 'abc', '99999999999999'], offset: ['0', '-1', '3', '-99', 'x', '1e3'] })}`, what: '' }),
  'POST /history': (r) => ({ method: 'POST', path: '/history', body: oddJsonBody(r, { clear: (x) => x.chance(0.2), delete: ids }), what: '' }),
  'POST /interrupt': (r) => ({ method: 'POST', path: '/interrupt', body: oddJsonBody(r, { prompt_id: anyId }), what: '' }),
  'POST /free': (r) => ({ method: 'POST', path: '/free', body: oddJsonBody(r, { unload_models: (x) => x.chance(0.5), free_memory: (x) => x.chance(0.5) }), what: '' }),
  'GET /object_info': () => ({ method: 'GET', path: '/object_info', what: '' }),
  'GET /system_stats': () => ({ method: 'GET', path: '/system_stats', what: '' }),
  'GET /embeddings': () => ({ method: 'GET', path: '/embeddings', what: '' }),
  'GET /models': () => ({ method: 'GET', path: '/models', what: '' }),
  'GET /extensions': () => ({ method: 'GET', path: '/extensions', what: '' }),
  'GET /features': () => ({ method: 'GET', path: '/features', what: '' }),
  'GET /view': (r) => ({
    method: 'GET',
    path: `/view${query(r, {
      filename: ['ok.png', 'bomb.png', 'huge.png', 'text.png', 'truncated.png', 'empty.png', 'page.html', 'nope.png', '../x', '.', '', 'link.png', 'x'.repeat(300)],
      type: ['output', 'input', 'temp', '', 'constructor', '__proto__'],
      subfolder: ['', 'sub', '..', '/etc', 'link_dir', 'x'.repeat(300)],
      preview: ['webp;90', 'jpeg;80', 'webp', 'jpeg;0', 'png;50', ';', 'webp;999'],
      channel: ['rgba', 'rgb', 'a', 'x', ''],
      token: ['x'],
    })}`,
    what: '',
  }),
  'POST /upload/image': (r, images) => {
    const m = multipart(r, images, false);
    return { method: 'POST', path: '/upload/image', body: m.body, headers: { 'Content-Type': m.type }, what: m.what };
  },
  'POST /upload/mask': (r, images) => {
    const m = multipart(r, images, true);
    return { method: 'POST', path: '/upload/mask', body: m.body, headers: { 'Content-Type': m.type }, what: m.what };
  },
  'POST /latentflow/shapes': (r) => ({ method: 'POST', path: '/latentflow/shapes', body: oddJsonBody(r, { prompt: oddPrompt }), what: '' }),
  'GET /history/{id}': (r) => ({ method: 'GET', path: `/history/${seg(r)}`, what: '' }),
  'GET /object_info/{id}': (r) => ({ method: 'GET', path: `/object_info/${r.chance(0.3) ? r.pick(CLASSES) || 'x' : seg(r)}`, what: '' }),
  'GET /models/{id}': (r) => ({ method: 'GET', path: `/models/${r.chance(0.3) ? 'checkpoints' : seg(r)}`, what: '' }),
  'GET /jobs/{id}': (r) => ({ method: 'GET', path: `/api/jobs/${seg(r)}`, what: '' }),
};

/** Requests outside the table: wrong methods, unknown paths, static files, odd headers. */
const OTHER: Gen = (r) => {
  const key = r.pick(Object.keys(ROUTES));
  const p = key.split(' ')[1]!.replace('{id}', seg(r));
  return r.pick<Req>([
    { method: r.pick(['PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'GET', 'POST']), path: p, body: r.chance(0.5) ? '{}' : undefined, what: 'method' },
    { method: 'GET', path: r.pick(['/', '/index.html', '/assets/x.js', `/${seg(r)}`, '/api', '/api/', '/..%2f..%2fetc%2fpasswd', '/%00', `/${'x'.repeat(2000)}`]), what: 'static' },
    { method: 'POST', path: p, body: '{}', headers: { Origin: r.pick(['http://evil.example', 'null', '']) }, what: 'origin' },
    { method: 'POST', path: '/prompt', body: 'x'.repeat(r.pick([0, 1, 65 * 1024, 1024 * 1024])), headers: { 'Content-Type': r.pick(['application/json', 'text/plain', '']) }, what: 'size' },
  ]);
};

/** The route keys declared in server/app.ts (ROUTES and PARAM_ROUTES), to check the table covers them all. */
function declaredRoutes(): string[] {
  const src = readFileSync(path.join(REPO, 'server/app.ts'), 'utf8');
  const exact = [...src.matchAll(/^\s*'(GET|POST|PUT|DELETE) (\/[^']*)':/gm)].map((m) => `${m[1]} ${m[2]}`);
  const param = [...src.matchAll(/\['(GET|POST)', '(\/[^']*\/)'/g)].map((m) => `${m[1]} ${m[2]}{id}`);
  return [...exact, ...param];
}

let srv: ServerProcess;
let images: Record<string, Buffer>;

beforeAll(async () => {
  const base = tempBase('fuzz');
  const ok = await sharp({ create: { width: 16, height: 12, channels: 4, background: { r: 200, g: 10, b: 10, alpha: 0.5 } } }).png().toBuffer();
  images = {
    ok,
    bomb: bombPng(16000, 16000),
    truncated: ok.subarray(0, ok.length >> 1),
    text: Buffer.from('not an image'),
    empty: Buffer.alloc(0),
    big: Buffer.alloc(MAX_UPLOAD_MIB * 1024 * 1024 + 10, 7),
  };
  for (const dir of ['input', 'output', 'output/sub']) mkdirSync(path.join(base, dir), { recursive: true });
  for (const dir of ['input', 'output']) {
    writeFileSync(path.join(base, dir, 'ok.png'), ok);
    writeFileSync(path.join(base, dir, 'bomb.png'), images.bomb);
    writeFileSync(path.join(base, dir, 'huge.png'), bombPng(20000, 20000));
    writeFileSync(path.join(base, dir, 'text.png'), images.text);
    writeFileSync(path.join(base, dir, 'truncated.png'), images.truncated);
    writeFileSync(path.join(base, dir, 'empty.png'), '');
    writeFileSync(path.join(base, dir, 'page.html'), '<script>1</script>');
  }
  srv = await startServerProcess({ baseDir: base, args: ['--max-upload-size', String(MAX_UPLOAD_MIB)] });
});
afterAll(async () => {
  await srv?.stop();
});

function send(req: Req): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const body = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body);
    const headers: Record<string, string | number> = { ...req.headers };
    if (body) headers['Content-Length'] = body.length;
    if (body && headers['Content-Type'] === undefined) headers['Content-Type'] = 'application/json';
    let r: http.ClientRequest;
    try {
      r = http.request({ host: '127.0.0.1', port: srv.port, method: req.method, path: req.path, headers, timeout: 10_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8', 0, 400) }));
        res.on('error', (e) => resolve({ error: `response: ${e.message}` }));
      });
    } catch (e) {
      // The client library refused the request line itself (nothing reached the server).
      return resolve({ status: 0, body: `not sent: ${(e as Error).message}` });
    }
    r.on('timeout', () => r.destroy(new Error('timed out')));
    r.on('error', (e) => resolve({ error: e.message }));
    r.end(body);
  });
}

describe(`fuzz (seed ${SEED}; replay with LF_FUZZ_SEED=${SEED})`, () => {
  it('covers every route declared in server/app.ts', () => {
    const declared = declaredRoutes();
    expect(declared.length).toBeGreaterThan(15);
    for (const key of declared) expect(Object.keys(ROUTES), `route ${key} has no fuzz generator`).toContain(key);
  });

  it('HTTP: no 5xx, no dropped connection, the process stays up', { timeout: 60_000 }, async () => {
    const r = prng(SEED);
    const keys = Object.keys(ROUTES);
    const seen = new Map<string, number>();
    const deadline = Date.now() + TIME_BUDGET_MS;
    let n = 0;
    for (; n < MAX_REQUESTS && Date.now() < deadline; n++) {
      const key = r.chance(0.85) ? keys[n % keys.length]! : 'other';
      const req = key === 'other' ? OTHER(r, images) : ROUTES[key]!(r, images);
      if (key !== 'other' && r.chance(0.3) && !req.path.startsWith('/api/')) req.path = `/api${req.path}`;
      const res = await send(req);
      const label = `#${n} seed ${SEED}: ${req.method} ${req.path.slice(0, 160)} ${req.what} -> ${JSON.stringify(res).slice(0, 300)}`;
      expect('error' in res ? res.error : '', label).toBe('');
      if ('status' in res) {
        expect(res.status, label).toBeLessThan(500);
        seen.set(String(res.status), (seen.get(String(res.status)) ?? 0) + 1);
      }
      expect(srv.proc.exitCode, `${label}\n${srv.stderr()}`).toBeNull();
    }
    if (process.env.LF_FUZZ_VERBOSE) console.log(n, JSON.stringify([...seen]));
    expect(n).toBeGreaterThan(100);
    // Both success and refusals were exercised.
    expect(seen.get('200')).toBeGreaterThan(10);
    expect([...seen.keys()].filter((s) => s.startsWith('4')).length).toBeGreaterThan(3);
    expect((await fetch(`${srv.url}/system_stats`)).status).toBe(200);
    expect(srv.stderr()).not.toMatch(/Unhandled|uncaught|FATAL|internal_error/i);
  });

  it('WebSocket: odd client ids and garbage frames close the socket at worst; the server stays up', { timeout: 30_000 }, async () => {
    const r = prng(SEED + 1);
    const deadline = Date.now() + 6_000;
    for (let i = 0; i < 60 && Date.now() < deadline; i++) {
      const clientId = r.pick(ODD_IDS);
      const url = `${srv.url.replace(/^http/, 'ws')}${r.pick(['/ws', '/api/ws', '/ws2', '/ws/'])}?clientId=${encodeURIComponent(clientId)}${r.chance(0.1) ? '&token=x' : ''}`;
      const ws = new WebSocket(url, { headers: r.chance(0.1) ? { Origin: 'http://evil.example' } : {} });
      const outcome = await new Promise<string>((resolve) => {
        const timer = setTimeout(() => {
          ws.terminate();
          resolve('timeout');
        }, 4000);
        ws.on('unexpected-response', (_q, res) => {
          clearTimeout(timer);
          resolve(`http ${res.statusCode}`);
        });
        ws.on('error', (e) => {
          clearTimeout(timer);
          resolve(`error ${e.message}`);
        });
        ws.on('open', () => {
          const frames: (string | Buffer)[] = [];
          for (let k = 1 + r.int(4); k > 0; k--) {
            frames.push(
              r.pick<string | Buffer>([
                json({ type: 'feature_flags', data: oddValue(r, 1) }),
                json({ type: r.pick(ODD_IDS), data: oddValue(r, 1) }),
                json(oddValue(r, 0)),
                '{"type": "feature_flags", "data": {"supports_preview_metadata": true}}',
                'not json',
                '{',
                Buffer.from([0, 1, 2, 255]),
                'x'.repeat(r.pick([10, 70 * 1024])),
                '{"__proto__": {"type": 1}}',
              ]),
            );
          }
          for (const f of frames) if (ws.readyState === WebSocket.OPEN) ws.send(f);
          setTimeout(() => {
            clearTimeout(timer);
            ws.close();
            resolve('open');
          }, 30);
        });
      });
      expect(outcome, `ws #${i} seed ${SEED + 1}: ${url.slice(0, 120)}`).not.toMatch(/^http 5|timeout/);
      expect(srv.proc.exitCode, srv.stderr()).toBeNull();
    }
    expect((await fetch(`${srv.url}/system_stats`)).status).toBe(200);
  });
});
