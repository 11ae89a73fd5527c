import { createHash } from 'node:crypto';
import { readFile, access } from 'node:fs/promises';
import path from 'node:path';
import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import sharp from 'sharp';
import { writeAtomic } from '../engine/index.js';
import type { Folders } from '../runtime/services.js';
import { HttpError } from './http-util.js';
import { checkRelative, ensureDirInside, folderKind, resolveExisting, type FolderKind } from './paths.js';

interface Multipart {
  fields: Map<string, string>;
  file?: { filename: string; data: Buffer };
}

/** Parses a multipart form with busboy: one file (`image`) up to `maxFile` bytes, a few small fields. */
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
    const fail = (e: HttpError) => {
      failed ??= e;
    };
    bb.on('file', (name, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('limit', () => fail(new HttpError(413, `upload larger than ${maxFile} bytes`)));
      stream.on('end', () => {
        if (name === 'image') out.file = { filename: info.filename ?? '', data: Buffer.concat(chunks) };
      });
    });
    bb.on('field', (name, value, info) => {
      if (info.valueTruncated) fail(new HttpError(413, `field '${name}' is too long`));
      out.fields.set(name, value);
    });
    bb.on('filesLimit', () => fail(new HttpError(400, 'only one file per upload')));
    bb.on('partsLimit', () => fail(new HttpError(400, 'too many parts')));
    bb.on('fieldsLimit', () => fail(new HttpError(400, 'too many fields')));
    bb.on('error', () => {
      req.unpipe(bb);
      req.resume();
      reject(new HttpError(400, 'malformed multipart body'));
    });
    bb.on('close', () => (failed ? reject(failed) : resolve(out)));
    req.pipe(bb);
  });
}

function rootOf(folders: Folders, kind: FolderKind): string {
  return kind === 'input' ? folders.input : kind === 'temp' ? folders.temp : folders.output;
}

function sha(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
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
      if (current && sha(current) === sha(data)) return candidate;
      candidate = `${name} (${i})${ext}`;
    }
  }
  await writeAtomic(path.join(dir, candidate), data);
  return candidate;
}

function uploadName(raw: string): string {
  const name = checkRelative(raw, 'filename', false);
  if (name.includes('/')) throw new HttpError(400, 'filename must not contain path separators');
  if (name.startsWith('.')) throw new HttpError(400, 'filename must not start with a dot');
  return name;
}

/** POST /upload/image and /upload/mask (ComfyUI's image_upload, with real-path containment). */
export async function handleUpload(req: IncomingMessage, folders: Folders, maxFile: number, mask: boolean): Promise<{ name: string; subfolder: string; type: FolderKind }> {
  const form = await parseMultipart(req, maxFile);
  if (!form.file) throw new HttpError(400, "the form has no 'image' file");
  const kind = folderKind(form.fields.get('type'), 'input');
  const subfolder = checkRelative(form.fields.get('subfolder') ?? '', 'subfolder', true);
  const filename = uploadName(form.file.filename);
  const overwrite = form.fields.get('overwrite') === 'true' || form.fields.get('overwrite') === '1';
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
    const base = sharp(original).ensureAlpha();
    const { width, height } = await base.metadata();
    if (!width || !height) throw new HttpError(400, 'original image has no size');
    const alpha = await sharp(maskBytes).ensureAlpha().resize(width, height, { fit: 'fill' }).extractChannel('alpha').raw().toBuffer();
    const rgb = await sharp(original).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    const channels = rgb.info.channels === 1 ? 1 : 3;
    return await sharp(rgb.data, { raw: { width, height, channels } }).joinChannel(alpha, { raw: { width, height, channels: 1 } }).png().toBuffer();
  } catch (e) {
    if (e instanceof HttpError) throw e;
    throw new HttpError(400, `cannot apply the mask: ${e instanceof Error ? e.message : String(e)}`);
  }
}
