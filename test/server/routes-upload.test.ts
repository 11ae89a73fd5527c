import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import sharp from 'sharp';
import { startServerProcess, type ServerProcess } from './helpers.js';
import { bombPng } from '../fixtures/png-bytes.js';

let srv: ServerProcess;

beforeAll(async () => {
  srv = await startServerProcess();
});
afterAll(async () => {
  await srv?.stop();
});

/** POSTs raw bytes (fetch cannot send a malformed multipart body); resolves with status and body, or the socket error. */
function rawPost(route: string, body: Buffer | string, contentType: string): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = http.request(`${srv.url}${route}`, { method: 'POST', headers: { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', (e) => resolve({ error: e.message }));
    req.end(body);
  });
}

async function upload(route: string, filename: string, data: Uint8Array, fields: Record<string, string> = {}): Promise<Response> {
  const form = new FormData();
  form.append('image', new Blob([new Uint8Array(data)]), filename);
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  return fetch(`${srv.url}${route}`, { method: 'POST', body: form });
}

async function alive(): Promise<void> {
  expect(srv.proc.exitCode, srv.stderr()).toBeNull();
  expect((await fetch(`${srv.url}/system_stats`)).status).toBe(200);
}

describe('POST /upload/image and /upload/mask: malformed bodies', () => {
  it('answers 400 to a body that ends inside the file part, on both routes and any field name, and keeps serving', async () => {
    for (const route of ['/upload/image', '/upload/mask']) {
      for (const field of ['image', 'other', '']) {
        const body = `--B\r\nContent-Disposition: form-data; name="${field}"; filename="a.png"\r\nContent-Type: image/png\r\n\r\nABC`;
        const r = await rawPost(route, body, 'multipart/form-data; boundary=B');
        expect(r, `${route} ${field}`).toMatchObject({ status: 400 });
        await alive();
      }
    }
    expect(srv.stderr()).not.toMatch(/Unexpected end of form|Unhandled 'error'/);
  });

  it('answers 4xx to other broken multipart bodies', async () => {
    const cases: [string, string][] = [
      ['--B\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n', 'multipart/form-data; boundary=B'],
      ['--B\r\nContent-Disposition: form-data; name="type"\r\n\r\ninput', 'multipart/form-data; boundary=B'],
      ['--B--\r\n', 'multipart/form-data; boundary=B'],
      ['garbage', 'multipart/form-data; boundary=B'],
      ['--B\r\n\r\n\r\n--B--', 'multipart/form-data; boundary=B'],
      ['', 'multipart/form-data'],
      ['--X\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\nABC\r\n--X--\r\n', 'multipart/form-data; boundary=Y'],
    ];
    for (const [body, type] of cases) {
      const r = await rawPost('/upload/image', body, type);
      expect('status' in r && r.status >= 400 && r.status < 500, `${JSON.stringify(body)} -> ${JSON.stringify(r)}`).toBe(true);
    }
    await alive();
  });
});

describe('upload names and sizes', () => {
  it('refuses a 300-character filename with 400, without showing a server path', async () => {
    const res = await upload('/upload/image', `${'a'.repeat(300)}.png`, new Uint8Array([1, 2, 3]));
    const text = await res.text();
    expect(res.status).toBe(400);
    expect(text).toMatch(/too long/);
    expect(text).not.toContain(srv.baseDir);
    expect(text).not.toMatch(/ENAMETOOLONG/);
    const sub = await upload('/upload/image', 'ok.png', new Uint8Array([1]), { subfolder: 'x'.repeat(300) });
    expect(sub.status).toBe(400);
    expect(await sub.text()).not.toContain(srv.baseDir);
    await alive();
  });

  it('keeps names up to the limit, and their same-name copies', async () => {
    const name = `${'b'.repeat(196)}.png`;
    const first = await upload('/upload/image', name, new Uint8Array([1]));
    expect(first.status).toBe(200);
    const second = await upload('/upload/image', name, new Uint8Array([2]));
    expect(second.status).toBe(200);
    expect(((await second.json()) as { name: string }).name).toBe(`${'b'.repeat(196)} (1).png`);
  });

  it('refuses decompression bombs by their header (413 naming the size) and stores nothing', async () => {
    const bomb = bombPng(16000, 16000);
    expect(bomb.length).toBeLessThan(64 * 1024);
    const res = await upload('/upload/image', 'bomb.png', bomb);
    const body = (await res.json()) as { error: { message: string } };
    expect(res.status).toBe(413);
    expect(body.error.message).toContain('16000x16000');
    expect(existsSync(path.join(srv.baseDir, 'input', 'bomb.png'))).toBe(false);
    const huge = await upload('/upload/image', 'huge.png', bombPng(20000, 20000));
    expect(huge.status).toBe(413);
    await alive();
  });

  it('refuses a bomb as a mask or as the original of a mask', async () => {
    const small = await sharp({ create: { width: 8, height: 8, channels: 4, background: { r: 1, g: 2, b: 3, alpha: 1 } } }).png().toBuffer();
    expect((await upload('/upload/image', 'orig.png', small)).status).toBe(200);
    const ref = JSON.stringify({ filename: 'orig.png', type: 'input', subfolder: '' });
    const asMask = await upload('/upload/mask', 'm.png', bombPng(16000, 16000), { original_ref: ref });
    expect(asMask.status).toBe(413);
    expect(await asMask.text()).toContain('16000x16000');
    const ok = await upload('/upload/mask', 'm.png', small, { original_ref: ref });
    expect(ok.status).toBe(200);
    await alive();
  });

  it('still accepts files that are not images (as ComfyUI does)', async () => {
    const res = await upload('/upload/image', 'notes.txt', new TextEncoder().encode('hello'));
    expect(res.status).toBe(200);
    expect(readdirSync(path.join(srv.baseDir, 'input'))).toContain('notes.txt');
  });
});
