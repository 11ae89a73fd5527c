/**
 * The engine's side of PNG text: reading with node:zlib's synchronous inflate over the shared, platform-free
 * chunk reader (png-text-chunks.ts, also used by the editor), and writing tEXt chunks, which only the
 * engine does (SaveImage embeds the prompt and workflow).
 */
import { crc32, inflateSync } from 'node:zlib';
import { chunkSpans, keywordOf, PngFormatError, readPngTextWith, TEXT_CHUNK_TYPES } from './png-text-chunks.js';

export { PngFormatError } from './png-text-chunks.js';

/** Decodes tEXt, zTXt and iTXt chunks (PNG spec 11.3.4) into keyword -> text; later chunks win. */
export function readPngText(png: Uint8Array): Record<string, string> {
  return readPngTextWith(png, (deflated) => inflateSync(deflated));
}

/** JSON.stringify's output with every non-ASCII character escaped, so it fits a Latin-1 tEXt chunk (as Python's json.dumps). */
export function asciiJson(text: string): string {
  return text.replace(/[\u007f-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function textChunk(key: string, value: string): Uint8Array {
  const body = Buffer.concat([Buffer.from(key, 'latin1'), Buffer.of(0), Buffer.from(value, 'latin1')]);
  const chunk = Buffer.alloc(body.length + 12);
  chunk.writeUInt32BE(body.length, 0);
  chunk.write('tEXt', 4, 'latin1');
  body.copy(chunk, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + body.length)), 8 + body.length);
  return chunk;
}

/** Returns the PNG with tEXt chunks for `entries` inserted before IEND (replacing same-keyword text chunks). */
export function writePngText(png: Uint8Array, entries: Record<string, string>): Uint8Array {
  const keys = new Set(Object.keys(entries));
  const spans = chunkSpans(png);
  const iend = spans.find((c) => c.type === 'IEND');
  if (!iend) throw new PngFormatError('no IEND chunk');
  const parts: Uint8Array[] = [png.subarray(0, 8)];
  let run = 8;
  for (const c of spans) {
    if (c === iend) break;
    const replaced = TEXT_CHUNK_TYPES.has(c.type) && keys.has(keywordOf(png.subarray(c.dataStart, c.dataEnd)) ?? '');
    if (replaced) {
      if (c.start > run) parts.push(png.subarray(run, c.start));
      run = c.end;
    }
  }
  if (iend.start > run) parts.push(png.subarray(run, iend.start));
  for (const [k, v] of Object.entries(entries)) parts.push(textChunk(k, v));
  parts.push(png.subarray(iend.start, iend.end));
  return Buffer.concat(parts);
}
