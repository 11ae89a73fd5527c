/**
 * The PNG chunk walker and text-chunk reader shared by the engine (Node) and the editor (browser): it uses
 * only Uint8Array, DataView and TextDecoder. The one platform-specific step, inflating zTXt and compressed
 * iTXt bodies, is passed in by the caller: the engine reads synchronously with node:zlib (png-text.ts),
 * the editor asynchronously with DecompressionStream (readPngTextAsync), which Node 20 also has.
 */
import { EngineError } from '../errors.js';

/** The bytes are not a PNG, or its chunks are damaged. */
export class PngFormatError extends EngineError {
  override name = 'PngFormatError';
}

const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

/** The chunk types that carry keyword -> text pairs (PNG spec 11.3.4). */
export const TEXT_CHUNK_TYPES: ReadonlySet<string> = new Set(['tEXt', 'zTXt', 'iTXt']);

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && SIGNATURE.every((b, i) => bytes[i] === b);
}

export interface ChunkSpan {
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
export function chunkSpans(png: Uint8Array): ChunkSpan[] {
  if (!isPng(png)) throw new PngFormatError('not a PNG (bad signature)');
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

/** The keyword of a text chunk's data (Latin-1 up to the first NUL), or undefined when it has none. */
export function keywordOf(data: Uint8Array): string | undefined {
  const z = data.indexOf(0);
  return z > 0 ? latin1.decode(data.subarray(0, z)) : undefined;
}

/** One text chunk with its header parsed and its body not yet inflated. */
interface TextBody {
  readonly keyword: string;
  readonly body: Uint8Array;
  readonly compressed: boolean;
  /** tEXt and zTXt are Latin-1, iTXt is UTF-8. */
  readonly decoder: TextDecoder;
}

/** The text chunks in file order; chunks without a keyword, or iTXt without its two header strings, are skipped. */
function textBodies(png: Uint8Array): TextBody[] {
  const out: TextBody[] = [];
  for (const c of chunkSpans(png)) {
    if (!TEXT_CHUNK_TYPES.has(c.type)) continue;
    const d = png.subarray(c.dataStart, c.dataEnd);
    const keyword = keywordOf(d);
    if (keyword === undefined) continue;
    const z = keyword.length;
    if (c.type === 'tEXt') out.push({ keyword, body: d.subarray(z + 1), compressed: false, decoder: latin1 });
    // zTXt: keyword NUL, compression method byte, deflated text.
    else if (c.type === 'zTXt') out.push({ keyword, body: d.subarray(z + 2), compressed: true, decoder: latin1 });
    else {
      // iTXt: keyword NUL, compression flag, compression method, language tag NUL, translated keyword NUL, text.
      const langEnd = d.indexOf(0, z + 3);
      const transEnd = langEnd < 0 ? -1 : d.indexOf(0, langEnd + 1);
      if (transEnd < 0) continue;
      out.push({ keyword, body: d.subarray(transEnd + 1), compressed: d[z + 1] === 1, decoder: utf8 });
    }
  }
  return out;
}

/** Inflates a zlib stream (RFC 1950), as PNG's compressed text chunks hold. */
export type Inflate = (deflated: Uint8Array) => Uint8Array;
export type InflateAsync = (deflated: Uint8Array) => Promise<Uint8Array>;

/**
 * Decodes tEXt, zTXt and iTXt chunks into keyword -> text with a synchronous `inflate`; later chunks win.
 * A damaged text chunk is skipped (the image and the other chunks may still be fine); a damaged chunk
 * layout throws PngFormatError.
 */
export function readPngTextWith(png: Uint8Array, inflate: Inflate): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of textBodies(png)) {
    try {
      out[t.keyword] = t.decoder.decode(t.compressed ? inflate(t.body) : t.body);
    } catch {
      // Skipped: see above.
    }
  }
  return out;
}

async function inflateWithStreams(deflated: Uint8Array): Promise<Uint8Array> {
  // NOTE: copied into a fresh Uint8Array, as Blob takes only ArrayBuffer-backed views.
  const stream = new Blob([new Uint8Array(deflated)]).stream().pipeThrough(new DecompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** readPngTextWith for platforms without a synchronous inflate (the browser): DecompressionStream by default. */
export async function readPngTextAsync(png: Uint8Array, inflate: InflateAsync = inflateWithStreams): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of textBodies(png)) {
    try {
      out[t.keyword] = t.decoder.decode(t.compressed ? await inflate(t.body) : t.body);
    } catch {
      // A damaged text chunk is skipped, as in readPngTextWith.
    }
  }
  return out;
}
