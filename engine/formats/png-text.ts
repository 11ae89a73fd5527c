import { inflateSync } from 'node:zlib';
import extractChunks from 'png-chunks-extract';
import encodeChunks from 'png-chunks-encode';
import { EngineError } from '../errors.js';

/** The bytes are not a PNG, or its chunks are damaged. */
export class PngFormatError extends EngineError {
  override name = 'PngFormatError';
}

type Chunk = { name: string; data: Uint8Array };

function chunksOf(png: Uint8Array): Chunk[] {
  try {
    return extractChunks(png);
  } catch (e) {
    throw new PngFormatError(`not a readable PNG: ${e instanceof Error ? e.message : String(e)}`);
  }
}

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8');

/** Decodes tEXt, zTXt and iTXt chunks (PNG spec 11.3.4) into keyword -> text; later chunks win. */
export function readPngText(png: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of chunksOf(png)) {
    const d = c.data;
    const z = d.indexOf(0);
    if (z <= 0) continue;
    const key = latin1.decode(d.subarray(0, z));
    try {
      if (c.name === 'tEXt') out[key] = latin1.decode(d.subarray(z + 1));
      else if (c.name === 'zTXt') out[key] = latin1.decode(inflateSync(d.subarray(z + 2)));
      else if (c.name === 'iTXt') {
        const compressed = d[z + 1] === 1;
        let p = z + 3;
        const langEnd = d.indexOf(0, p);
        const transEnd = d.indexOf(0, langEnd + 1);
        if (langEnd < 0 || transEnd < 0) continue;
        p = transEnd + 1;
        const body = d.subarray(p);
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

/** Returns the PNG with tEXt chunks for `entries` inserted before IEND (replacing same-keyword chunks). */
export function writePngText(png: Uint8Array, entries: Record<string, string>): Uint8Array {
  const keys = new Set(Object.keys(entries));
  const chunks = chunksOf(png).filter((c) => {
    if (c.name !== 'tEXt' && c.name !== 'iTXt' && c.name !== 'zTXt') return true;
    const z = c.data.indexOf(0);
    return !keys.has(latin1.decode(c.data.subarray(0, z)));
  });
  const text: Chunk[] = Object.entries(entries).map(([k, v]) => {
    const kb = Buffer.from(k, 'latin1');
    const vb = Buffer.from(v, 'latin1');
    const data = new Uint8Array(kb.length + 1 + vb.length);
    data.set(kb, 0);
    data.set(vb, kb.length + 1);
    return { name: 'tEXt', data };
  });
  const iend = chunks.findIndex((c) => c.name === 'IEND');
  chunks.splice(iend < 0 ? chunks.length : iend, 0, ...text);
  return encodeChunks(chunks);
}
