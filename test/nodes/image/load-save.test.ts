import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { createHost, type Host } from '../../../host/host.js';
import { LoadImage, listInputImages } from '../../../nodes/image/load-save.js';
import { NodeInputError, PathEscapeError } from '../../../engine/index.js';
import { MAX_IMAGE_PIXELS } from '../../../imaging/codec.js';
import { tempDir } from '../../fixtures/temp-dir.js';
import { nodeContext } from '../../fixtures/run-node.js';
import { bombPng } from '../../fixtures/png-bytes.js';

let host: Host;
let base: string;
let outside: string;

beforeAll(async () => {
  base = tempDir('lf-load-save-');
  outside = tempDir('lf-load-save-outside-');
  const png = await sharp({ create: { width: 5, height: 3, channels: 3, background: { r: 9, g: 9, b: 9 } } }).png().toBuffer();
  writeFileSync(path.join(outside, 'secret.png'), png);
  mkdirSync(path.join(base, 'input', 'sub'), { recursive: true });
  mkdirSync(path.join(base, 'output'), { recursive: true });
  writeFileSync(path.join(base, 'input', 'ok.png'), png);
  writeFileSync(path.join(base, 'input', 'bomb.png'), bombPng(16000, 16000));
  symlinkSync(path.join(outside, 'secret.png'), path.join(base, 'input', 'link_in.png'));
  symlinkSync(outside, path.join(base, 'input', 'link_dir'));
  symlinkSync(path.join(base, 'input', 'ok.png'), path.join(base, 'input', 'sub', 'alias.png'));
  symlinkSync(outside, path.join(base, 'output', 'link_dir'));
  host = await createHost({ baseDir: base });
});
afterAll(() => host?.close());

const run = async (image: string) => LoadImage.run(nodeContext({ services: host.engine.services }), { image } as never);

describe('LoadImage and its choices stay inside input/', () => {
  it('lists neither a linked file nor the files of a linked folder, but links that stay inside', () => {
    const names = listInputImages(host.engine.services);
    expect(names).toContain('ok.png');
    expect(names).toContain('sub/alias.png');
    expect(names).not.toContain('link_in.png');
    expect(names).not.toContain('link_dir/secret.png');
  });

  it('refuses to read through a symlink that leaves input/, and infers no shape for it', async () => {
    await expect(run('link_in.png')).rejects.toThrow(PathEscapeError);
    await expect(run('link_dir/secret.png')).rejects.toThrow(PathEscapeError);
    const shapes = await host.engine.inferShapes({ '1': { class_type: 'LoadImage', inputs: { image: 'link_in.png' } } });
    expect(JSON.stringify(shapes)).not.toContain('[1,3,5,3]');
    expect(await run('sub/alias.png')).toMatchObject({ IMAGE: { shape: [1, 3, 5, 3] } });
  });

  it('refuses an image above the pixel limit with a node error naming its size', async () => {
    expect(MAX_IMAGE_PIXELS).toBeLessThan(16000 * 16000);
    const err = await run('bomb.png').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NodeInputError);
    expect((err as Error).message).toContain('16000x16000');
  });

  it('says a missing image is missing, without the server path', async () => {
    const err = (await run('nope.png').catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(NodeInputError);
    expect(err.message).not.toContain(base);
  });
});

describe('SaveImage stays inside output/', () => {
  it("fails filename_prefix 'link_dir/pwn' and writes nothing outside", async () => {
    const img = { '1': { class_type: 'LoadImage', inputs: { image: 'ok.png' } } };
    for (const prefix of ['link_dir/pwn', 'link_dir/deeper/pwn']) {
      const r = await host.engine.run({ ...img, '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: prefix } } });
      expect(r.status, prefix).toBe('error');
      expect(r.error?.message, prefix).toMatch(/outside its folder/);
    }
    expect(readdirSync(outside)).toEqual(['secret.png']);
    const ok = await host.engine.run({ ...img, '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'fine/pic' } } });
    expect(ok.status).toBe('success');
    expect(readdirSync(path.join(base, 'output', 'fine'))).toEqual(['pic_00001_.png']);
  });
});
