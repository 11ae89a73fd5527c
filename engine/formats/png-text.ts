import { crc32, inflateSync } from 'node:zlib';
import { EngineError } from '../errors.js';

/** The bytes are not a PNG, or its chunks are damaged. */
export class PngFormatError extends EngineError {
  override name = 'PngFormatError';
}

const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
const TEXT_TYPES = new Set(['tEXt', 'zTXt', 'iTXt']);

interface ChunkSpan {
  readonly type: string;
  /** Offset of the chunk's length field. */
  readonly start: number;
  readonly dataStart: number;
  readonly dataEnd: number;
  /** Offset just past the CRC. */
  readonly end: number;
}

/**
 * Walks a PNG's chunk layout (PNG spec 5.3) without copying any data. Chunk CRCs are not verified: the
 * image decoder checks the pixel data, and a text chunk that fails to parse is skipped.
 * NOTE: hand-written instead of png-chunks-extract/encode, which copied and re-checksummed the whole
 * image on every save (measured: 30-70 ms per 512x512 SaveImage in bench/diffusion.bench.ts).
 */
function chunkSpans(png: Uint8Array): ChunkSpan[] {
  if (png.length < 8 || !SIGNATURE.every((b, i) => png[i] === b)) throw new PngFormatError('not a PNG (bad signature)');
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const spans: ChunkSpan[] = [];
  let at = 8;
  while (at < png.length) {
    if (at + 12 > png.length) throw new PngFormatError(`truncated chunk header at byte ${at}`);
    const length = view.getUint32(at);
    const dataStart = at + 8;
    const dataEnd = dataStart + length;
    if (dataEnd + 4 > png.length) throw new PngFormatError(`chunk at byte ${at} runs past the end of the file`);
    const type = String.fromCharCode(png[at + 4]!, png[at + 5]!, png[at + 6]!, png[at + 7]!);
    spans.push({ type, start: at, dataStart, dataEnd, end: dataEnd + 4 });
    at = dataEnd + 4;
    if (type === 'IEND') break;
  }
  return spans;
}

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8');

function keywordOf(d: Uint8Array): string | undefined {
  const z = d.indexOf(0);
  return z > 0 ? latin1.decode(d.subarray(0, z)) : undefined;
}

/** Decodes tEXt, zTXt and iTXt chunks (PNG spec 11.3.4) into keyword -> text; later chunks win. */
export function readPngText(png: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of chunkSpans(png)) {
    if (!TEXT_TYPES.has(c.type)) continue;
    const d = png.subarray(c.dataStart, c.dataEnd);
    const key = keywordOf(d);
    if (key === undefined) continue;
    const z = key.length;
    try {
      if (c.type === 'tEXt') out[key] = latin1.decode(d.subarray(z + 1));
      else if (c.type === 'zTXt') out[key] = latin1.decode(inflateSync(d.subarray(z + 2)));
      else {
        const compressed = d[z + 1] === 1;
        const langEnd = d.indexOf(0, z + 3);
        const transEnd = langEnd < 0 ? -1 : d.indexOf(0, langEnd + 1);
        if (transEnd < 0) continue;
        const body = d.subarray(transEnd + 1);
        out[key] = utf8.decode(compressed ? inflateSync(body) : body);
      }
    } catch {
      // A damaged text chunk is skipped; the image itself may still be fine.
    }
  }
  return out;
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
    const replaced = TEXT_TYPES.has(c.type) && keys.has(keywordOf(png.subarray(c.dataStart, c.dataEnd)) ?? '');
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
