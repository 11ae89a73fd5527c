import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { startServerProcess, tempBase, postJson, getJson, waitJob, slowWorkflow, type ServerProcess } from './helpers.js';

let srv: ServerProcess;
let outside: string;
let realOutput: string;

beforeAll(async () => {
  const base = tempBase('paths');
  outside = tempBase('paths-outside');
  const png = await sharp({ create: { width: 7, height: 5, channels: 3, background: { r: 1, g: 2, b: 3 } } }).png().toBuffer();
  writeFileSync(path.join(outside, 'secret.png'), png);
  mkdirSync(path.join(base, 'input'), { recursive: true });
  writeFileSync(path.join(base, 'input', 'ok.png'), png);
  symlinkSync(path.join(outside, 'secret.png'), path.join(base, 'input', 'link_in.png'));
  symlinkSync(outside, path.join(base, 'input', 'link_dir'));
  // The output folder itself is a symlink (allowed); a link inside it to elsewhere is not.
  realOutput = tempBase('paths-real-output');
  symlinkSync(outside, path.join(realOutput, 'link_dir'));
  symlinkSync(realOutput, path.join(base, 'out-link'));
  srv = await startServerProcess({ baseDir: base, args: ['--output', path.join(base, 'out-link')] });
});
afterAll(async () => {
  await srv?.stop();
});

describe('engine file nodes over the API: real paths stay inside input/ and output/', () => {
  it("does not offer linked files as LoadImage's choices", async () => {
    const info = await getJson<Record<string, { input: { required: { image: [string[]] } } }>>(`${srv.url}/object_info/LoadImage`);
    const choices = info.LoadImage!.input.required.image[0];
    expect(choices).toContain('ok.png');
    expect(choices).not.toContain('link_in.png');
    expect(choices).not.toContain('link_dir/secret.png');
  });

  it('does not leak the size of a linked file through /latentflow/shapes', async () => {
    const shapes = async (image: string) => (await postJson(`${srv.url}/latentflow/shapes`, { prompt: { '1': { class_type: 'LoadImage', inputs: { image } } } })).json as { shapes: Record<string, unknown> };
    expect((await shapes('ok.png')).shapes['1']).toEqual([[1, 5, 7, 3], [1, 64, 64]]);
    for (const name of ['link_in.png', 'link_dir/secret.png']) expect(JSON.stringify((await shapes(name)).shapes), name).not.toContain('[1,5,7,3]');
  });

  it("fails SaveImage with filename_prefix 'link_dir/pwn', writes nothing outside, names no server path", async () => {
    for (const prefix of ['link_dir/pwn', 'link_dir/new/pwn']) {
      const r = await postJson(`${srv.url}/prompt`, { prompt: slowWorkflow({ steps: 1, delayMs: 0, prefix }) });
      expect(r.status, r.text).toBe(200);
      const job = await waitJob(srv.url, (r.json as { prompt_id: string }).prompt_id);
      expect(job.status).toBe('error');
      const text = JSON.stringify(job.error);
      expect(text).toMatch(/outside its folder/);
      expect(text).not.toContain(srv.baseDir);
    }
    expect(readdirSync(outside).sort()).toEqual(['secret.png']);
    const ok = await postJson(`${srv.url}/prompt`, { prompt: slowWorkflow({ steps: 1, delayMs: 0, prefix: 'fine/pic' }) });
    expect((await waitJob(srv.url, (ok.json as { prompt_id: string }).prompt_id)).status).toBe('success');
    expect(readdirSync(path.join(realOutput, 'fine'))).toHaveLength(1);
  });
});
