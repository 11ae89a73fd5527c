import { readFile, access } from 'node:fs/promises';
import path from 'node:path';
import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import sharp from 'sharp';
import { writeAtomic } from '../engine/index.js';
import type { Folders } from '../runtime/services.js';
import { checkedMetadata, ImageTooLargeError, MAX_IMAGE_PIXELS } from '../imaging/codec.js';
import { HttpError } from './http-util.js';
import { checkRelative, ensureDirInside, folderKind, resolveExisting, type FolderKind } from './paths.js';

interface Multipart {
  fields: Map<string, string>;
  file?: { filename: string; data: Buffer };
}

/**
 * Parses a multipart form with busboy: one file (`image`) up to `maxFile` bytes, a few small fields.
 * Every way a body can be malformed (cut short inside a part, a bad boundary, a client that goes
 * away) ends in a rejected promise, never in an unhandled 'error' event.
 */
function parseMultipart(req: IncomingMessage, maxFile: number): Promise<Multipart> {
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: req.headers, preservePath: true, limits: { fileSize: maxFile, files: 1, fields: 16, fieldSize: 64 * 1024, parts: 20 } });
    } catch {
      req.resume();
      return reject(new HttpError(400, 'expected a multipart/form-data body'));
    }
    const out: Multipart = { fields: new Map() };
    let failed: HttpError | undefined;
    let settled = false;
    const fail = (e: HttpError) => {
      failed ??= e;
    };
    const abort = (e: HttpError) => {
      if (settled) return;
      settled = true;
      req.unpipe(bb);
      req.resume();
      reject(failed ?? e);
    };
    bb.on('file', (name, stream, info) => {
      // NOTE: busboy destroys the part's stream with an error when the body ends inside it
      // ("Unexpected end of form"); without a listener that error would end the process.
      stream.on('error', () => abort(new HttpError(400, 'malformed multipart body: the body ends inside a part')));
      if (name !== 'image') {
        stream.resume();
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('limit', () => fail(new HttpError(413, `upload larger than ${maxFile} bytes`)));
      stream.on('end', () => {
        out.file = { filename: info.filename ?? '', data: Buffer.concat(chunks) };
      });
    });
    bb.on('field', (name, value, info) => {
      if (info.valueTruncated) fail(new HttpError(413, `field '${name}' is too long`));
      out.fields.set(name, value);
    });
    bb.on('filesLimit', () => fail(new HttpError(400, 'only one file per upload')));
    bb.on('partsLimit', () => fail(new HttpError(400, 'too many parts')));
    bb.on('fieldsLimit', () => fail(new HttpError(400, 'too many fields')));
    bb.on('error', () => abort(new HttpError(400, 'malformed multipart body')));
    bb.on('close', () => {
      if (settled) return;
      settled = true;
      if (failed) reject(failed);
      else resolve(out);
    });
    req.on('error', () => abort(new HttpError(400, 'the request body was cut off')));
    req.pipe(bb);
  });
}

function rootOf(folders: Folders, kind: FolderKind): string {
  return kind === 'input' ? folders.input : kind === 'temp' ? folders.temp : folders.output;
}

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}

/** Picks the stored name: `name (1).ext` and so on unless overwriting; an identical file is reused. */
async function store(dir: string, filename: string, data: Uint8Array, overwrite: boolean): Promise<string> {
  const { name, ext } = path.parse(filename);
  let candidate = filename;
  if (!overwrite) {
    for (let i = 1; await exists(path.join(dir, candidate)); i++) {
      const current = await readFile(path.join(dir, candidate)).catch(() => undefined);
      // NOTE: a byte comparison (memcmp) instead of two sha256 passes keeps 100 MiB uploads off the event loop's back.
      if (current && current.length === data.length && current.equals(data)) return candidate;
      candidate = `${name} (${i})${ext}`;
    }
  }
  await writeAtomic(path.join(dir, candidate), data);
  return candidate;
}

/**
 * Longest stored file name in UTF-8 bytes: 255 (the usual file-system limit) less room for the
 * ` (12)` suffix of a same-name upload and writeAtomic's `.<12 hex>.partial` temp name.
 */
export const MAX_UPLOAD_NAME_BYTES = 200;

function uploadName(raw: string): string {
  const name = checkRelative(raw, 'filename', false);
  if (name.includes('/')) throw new HttpError(400, 'filename must not contain path separators');
  if (name.startsWith('.')) throw new HttpError(400, 'filename must not start with a dot');
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_UPLOAD_NAME_BYTES) throw new HttpError(400, `filename is too long (${bytes} bytes; at most ${MAX_UPLOAD_NAME_BYTES})`);
  return name;
}

/** The image's header against the pixel limit (no decoding): 413 naming the size. Non-images pass, as in ComfyUI. */
async function checkUploadedPixels(data: Uint8Array, what: string): Promise<void> {
  try {
    await checkedMetadata(data);
  } catch (e) {
    if (e instanceof ImageTooLargeError) throw new HttpError(413, `${what}: ${e.message}`);
  }
}

/** POST /upload/image and /upload/mask (ComfyUI's image_upload, with real-path containment). */
export async function handleUpload(req: IncomingMessage, folders: Folders, maxFile: number, mask: boolean): Promise<{ name: string; subfolder: string; type: FolderKind }> {
  const form = await parseMultipart(req, maxFile);
  if (!form.file) throw new HttpError(400, "the form has no 'image' file");
  const kind = folderKind(form.fields.get('type'), 'input');
  const subfolder = checkRelative(form.fields.get('subfolder') ?? '', 'subfolder', true);
  const filename = uploadName(form.file.filename);
  const overwrite = form.fields.get('overwrite') === 'true' || form.fields.get('overwrite') === '1';
  await checkUploadedPixels(form.file.data, 'refused');
  const dir = await ensureDirInside(rootOf(folders, kind), subfolder);
  let data: Uint8Array = form.file.data;
  if (mask) data = await applyMask(form.fields.get('original_ref'), folders, data);
  const name = await store(dir, filename, data, overwrite);
  return { name, subfolder, type: kind };
}

/** The original image with the mask's alpha as its alpha (ComfyUI's upload_mask). */
async function applyMask(refText: string | undefined, folders: Folders, maskBytes: Uint8Array): Promise<Uint8Array> {
  if (!refText) throw new HttpError(400, 'original_ref is required');
  let ref: unknown;
  try {
    ref = JSON.parse(refText);
  } catch {
    throw new HttpError(400, 'original_ref must be JSON');
  }
  if (typeof ref !== 'object' || ref === null || !('filename' in ref) || typeof ref.filename !== 'string') throw new HttpError(400, 'original_ref.filename is required');
  const refName = ref.filename.replace(/ \[(input|output|temp)\]$/, '');
  const kind = folderKind('type' in ref && typeof ref.type === 'string' ? ref.type : undefined, 'output');
  const sub = checkRelative('subfolder' in ref && typeof ref.subfolder === 'string' ? ref.subfolder : '', 'subfolder', true);
  const original = await resolveExisting(rootOf(folders, kind), path.posix.join(sub, checkRelative(refName, 'filename', false)));
  try {
    const { width, height } = await checkedMetadata(original);
    await checkedMetadata(maskBytes);
    if (!width || !height) throw new HttpError(400, 'original image has no size');
    const opts = { limitInputPixels: MAX_IMAGE_PIXELS };
    const alpha = await sharp(maskBytes, opts).ensureAlpha().resize(width, height, { fit: 'fill' }).extractChannel('alpha').raw().toBuffer();
    const rgb = await sharp(original, opts).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    const channels = rgb.info.channels === 1 ? 1 : 3;
    return await sharp(rgb.data, { raw: { width, height, channels } }).joinChannel(alpha, { raw: { width, height, channels: 1 } }).png().toBuffer();
  } catch (e) {
    if (e instanceof HttpError) throw e;
    if (e instanceof ImageTooLargeError) throw new HttpError(413, `cannot apply the mask: ${e.message}`);
    throw new HttpError(400, `cannot apply the mask: ${e instanceof Error ? e.message : String(e)}`);
  }
}
