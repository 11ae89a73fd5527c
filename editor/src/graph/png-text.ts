/** The bytes are not a PNG, or its chunk list is cut short. */
export class PngChunkError extends Error {
  override name = 'PngChunkError';
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && SIGNATURE.every((b, i) => bytes[i] === b);
}

async function inflate(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([new Uint8Array(data)]).stream().pipeThrough(new DecompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * Reads the tEXt, zTXt and iTXt chunks of a PNG (PNG spec 11.3.4) into keyword -> text,
 * in the browser (the engine's reader uses node:zlib). Later chunks win; damaged text chunks are skipped.
 */
export async function readPngText(bytes: Uint8Array): Promise<Record<string, string>> {
  if (!isPng(bytes)) throw new PngChunkError('not a PNG file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const latin1 = new TextDecoder('latin1');
  const utf8 = new TextDecoder('utf-8');
  const out: Record<string, string> = {};
  let p = 8;
  while (p + 8 <= bytes.length) {
    const len = view.getUint32(p);
    const name = latin1.decode(bytes.subarray(p + 4, p + 8));
    const start = p + 8;
    if (start + len > bytes.length) throw new PngChunkError(`chunk ${name} runs past the end of the file`);
    const d = bytes.subarray(start, start + len);
    p = start + len + 4; // NOTE: + 4 skips the CRC.
    if (name === 'IEND') break;
    const z = d.indexOf(0);
    if (z <= 0 || (name !== 'tEXt' && name !== 'zTXt' && name !== 'iTXt')) continue;
    const key = latin1.decode(d.subarray(0, z));
    try {
      if (name === 'tEXt') out[key] = latin1.decode(d.subarray(z + 1));
      else if (name === 'zTXt') out[key] = latin1.decode(await inflate(d.subarray(z + 2)));
      else {
        const compressed = d[z + 1] === 1;
        const langEnd = d.indexOf(0, z + 3);
        const transEnd = langEnd < 0 ? -1 : d.indexOf(0, langEnd + 1);
        if (transEnd < 0) continue;
        const body = d.subarray(transEnd + 1);
        out[key] = utf8.decode(compressed ? await inflate(body) : body);
      }
    } catch {
      // A damaged text chunk is skipped; the others may still carry the workflow.
    }
  }
  return out;
}
