import { describe, it, expect } from 'vitest';
import { crc32, deflateSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { readPngText, writePngText, asciiJson, PngFormatError } from '../../../engine/formats/png-text.js';
import { readPngTextAsync } from '../../../engine/formats/png-text-chunks.js';
import { COMFYUI_EXAMPLES, itWith } from '../../fixtures/shared-data.js';

async function smallPng(): Promise<Uint8Array> {
  return new Uint8Array(await sharp({ create: { width: 16, height: 8, channels: 3, background: { r: 200, g: 20, b: 20 } } }).png().toBuffer());
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(data.length + 12);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  Buffer.from(data).copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** Every chunk's stored CRC matches its type + data. */
function crcsValid(png: Uint8Array): boolean {
  const b = Buffer.from(png);
  for (let at = 8; at < b.length; ) {
    const len = b.readUInt32BE(at);
    if (b.readUInt32BE(at + 8 + len) !== crc32(b.subarray(at + 4, at + 8 + len))) return false;
    at += len + 12;
  }
  return true;
}

describe('PNG text chunks', () => {
  it('writes tEXt chunks that read back, keep the image decodable and carry valid CRCs', async () => {
    const png = await smallPng();
    const prompt = asciiJson(JSON.stringify({ '1': { class_type: 'CLIPTextEncode', inputs: { text: 'un cercle rouge – été' } } }));
    const out = writePngText(png, { prompt, workflow: '{"nodes":[]}' });
    expect(readPngText(out)).toEqual({ prompt, workflow: '{"nodes":[]}' });
    expect(JSON.parse(readPngText(out).prompt!)['1'].inputs.text).toBe('un cercle rouge – été');
    expect(crcsValid(out)).toBe(true);
    const { info } = await sharp(out).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([16, 8]);
  });

  it('replaces chunks with the same keyword and keeps the others', async () => {
    const once = writePngText(await smallPng(), { prompt: 'a', other: 'keep' });
    const twice = writePngText(once, { prompt: 'b' });
    expect(readPngText(twice)).toEqual({ other: 'keep', prompt: 'b' });
    expect(crcsValid(twice)).toBe(true);
  });

  it('reads zTXt and iTXt (compressed and not) as written by other tools', async () => {
    const png = Buffer.from(await smallPng());
    const iend = png.length - 12;
    const z = chunk('zTXt', Buffer.concat([Buffer.from('ztext\0\0', 'latin1'), deflateSync('squeezed')]));
    const i1 = chunk('iTXt', Buffer.concat([Buffer.from('utf\0\0\0en\0', 'latin1'), Buffer.from('\0'), Buffer.from('κύκλος', 'utf8')]));
    const i2 = chunk('iTXt', Buffer.concat([Buffer.from('deflated\0\x01\0\0\0', 'latin1'), deflateSync(Buffer.from('ριγέ', 'utf8'))]));
    const withText = Buffer.concat([png.subarray(0, iend), z, i1, i2, png.subarray(iend)]);
    expect(readPngText(withText)).toEqual({ ztext: 'squeezed', utf: 'κύκλος', deflated: 'ριγέ' });
    // The editor's reader: the same chunk parsing, inflated with DecompressionStream instead of node:zlib.
    expect(await readPngTextAsync(withText)).toEqual({ ztext: 'squeezed', utf: 'κύκλος', deflated: 'ριγέ' });
  });

  itWith(COMFYUI_EXAMPLES, 'reads the prompt and workflow of a ComfyUI example', () => {
    const text = readPngText(readFileSync(COMFYUI_EXAMPLES.file('img2img_img2img_workflow.png')));
    expect(Object.keys(text).sort()).toEqual(['prompt', 'workflow']);
    expect(JSON.parse(text.prompt!)['3'].class_type).toBe('KSampler');
  });

  it('refuses what is not a PNG, or is cut short, with PngFormatError', async () => {
    expect(() => readPngText(Buffer.from('GIF89a not a png'))).toThrow(PngFormatError);
    const png = await smallPng();
    expect(() => readPngText(png.subarray(0, 40))).toThrow(PngFormatError);
    expect(() => writePngText(png.subarray(0, png.length - 12), { a: 'b' })).toThrow(PngFormatError);
    await expect(readPngTextAsync(png.subarray(0, 40))).rejects.toThrow(PngFormatError);
  });
});
