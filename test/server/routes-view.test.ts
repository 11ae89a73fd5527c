import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { startServerProcess, tempBase, type ServerProcess } from './helpers.js';
import { bombPng } from '../fixtures/png-bytes.js';

let srv: ServerProcess;

/** Peak resident memory of the server process in MiB (Linux), or undefined elsewhere. */
function peakRssMiB(pid: number): number | undefined {
  const file = `/proc/${pid}/status`;
  if (!existsSync(file)) return undefined;
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(file, 'utf8'));
  return m ? Number(m[1]) / 1024 : undefined;
}

let rgba: Buffer;

beforeAll(async () => {
  const base = tempBase('view');
  const out = path.join(base, 'output');
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'bomb.png'), bombPng(16000, 16000));
  writeFileSync(path.join(out, 'huge.png'), bombPng(20000, 20000));
  writeFileSync(path.join(out, 'text.png'), 'this is not a picture');
  writeFileSync(path.join(out, 'empty.png'), '');
  // 4x2 RGBA, alpha 0, 30, 60, ... so channel=a can be checked pixel by pixel.
  const px = Buffer.alloc(4 * 2 * 4);
  for (let i = 0; i < 8; i++) px.set([200, 100, 50, i * 30], i * 4);
  rgba = await sharp(px, { raw: { width: 4, height: 2, channels: 4 } }).png().toBuffer();
  writeFileSync(path.join(out, 'rgba.png'), rgba);
  writeFileSync(path.join(out, 'truncated.png'), rgba.subarray(0, Math.floor(rgba.length / 2)));
  const big = await sharp({ create: { width: 600, height: 400, channels: 3, background: { r: 9, g: 9, b: 9 } } }).jpeg().toBuffer();
  writeFileSync(path.join(out, 'cut.jpg'), big.subarray(0, Math.floor(big.length * 0.6)));
  srv = await startServerProcess({ baseDir: base });
});
afterAll(async () => {
  await srv?.stop();
});

async function view(query: string): Promise<{ status: number; body: Buffer; type: string | null }> {
  const res = await fetch(`${srv.url}/view?${query}`);
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()), type: res.headers.get('content-type') };
}

describe('GET /view re-encoding', () => {
  it('refuses to decode images above the pixel limit: 413 naming the size, checked before decoding', async () => {
    for (const q of ['filename=bomb.png&channel=a', 'filename=bomb.png&preview=webp;90', 'filename=bomb.png&channel=rgb', 'filename=huge.png&preview=jpeg;80', 'filename=huge.png&channel=a']) {
      const t0 = performance.now();
      const r = await view(q);
      expect(r.status, q).toBe(413);
      expect(r.body.toString(), q).toContain(q.includes('bomb') ? '16000x16000' : '20000x20000');
      expect(performance.now() - t0, q).toBeLessThan(5000);
    }
    const peak = peakRssMiB(srv.proc.pid!);
    if (peak !== undefined) expect(peak).toBeLessThan(700);
    // The file itself is still served as it is (nothing is decoded).
    const raw = await view('filename=bomb.png');
    expect(raw.status).toBe(200);
    expect(raw.body.length).toBeLessThan(64 * 1024);
  });

  it('answers 4xx, not 500, for previews of files that are not images or are cut short', async () => {
    for (const name of ['text.png', 'empty.png', 'truncated.png', 'cut.jpg']) {
      for (const extra of ['channel=a', 'channel=rgb', 'preview=webp;90', 'preview=jpeg;50']) {
        const r = await view(`filename=${name}&${extra}`);
        expect(r.status === 200 || (r.status >= 400 && r.status < 500), `${name} ${extra}: ${r.status} ${r.body.toString().slice(0, 200)}`).toBe(true);
        if (r.status !== 200) expect(r.body.toString()).not.toContain(srv.baseDir);
      }
    }
    for (const extra of ['channel=a', 'preview=webp;90']) expect((await view(`filename=text.png&${extra}`)).status).toBe(415);
    expect((await fetch(`${srv.url}/system_stats`)).status).toBe(200);
  });

  it('still gives the alpha as transparent black with channel=a, and previews', async () => {
    const a = await view('filename=rgba.png&channel=a');
    expect(a.status).toBe(200);
    expect(a.type).toBe('image/png');
    const { data, info } = await sharp(a.body).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([4, 2, 4]);
    for (let i = 0; i < 8; i++) expect([...data.subarray(i * 4, i * 4 + 4)]).toEqual([0, 0, 0, i * 30]);
    const rgb = await view('filename=rgba.png&channel=rgb');
    expect((await sharp(rgb.body).metadata()).channels).toBe(3);
    const webp = await view('filename=rgba.png&preview=webp;90');
    expect(webp.type).toBe('image/webp');
    expect((await sharp(webp.body).metadata()).format).toBe('webp');
  });
});
