import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { ServerResponse } from 'node:http';
import sharp from 'sharp';
import type { Folders } from '../runtime/services.js';
import { HttpError, pipeFile } from './http-util.js';
import { checkRelative, folderKind, resolveExisting } from './paths.js';

/** Types a browser may show inline; everything else (HTML, JS, SVG, ...) is an attachment. */
const INLINE_TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.bmp': 'image/bmp',
  '.avif': 'image/avif',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.wav': 'audio/wav',
  '.mp3': 'audio/mpeg',
  '.flac': 'audio/flac',
  '.ogg': 'audio/ogg',
};

/** Headers that keep a served file from running as a page in the server's origin. */
export function fileHeaders(filename: string, contentType: string | undefined): Record<string, string> {
  const quoted = filename.replace(/["\\\r\n]/g, '_');
  const encoded = encodeURIComponent(filename);
  const inline = contentType !== undefined;
  return {
    'Content-Type': contentType ?? 'application/octet-stream',
    'Content-Disposition': `${inline ? 'inline' : 'attachment'}; filename="${quoted}"; filename*=UTF-8''${encoded}`,
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': "default-src 'none'; sandbox",
    'Cache-Control': 'no-cache',
  };
}

function rootOf(folders: Folders, kind: 'input' | 'output' | 'temp'): string {
  return kind === 'input' ? folders.input : kind === 'temp' ? folders.temp : folders.output;
}

/** `?preview=webp;90` or `jpeg;80`: a re-encoded copy (ComfyUI's /view preview). */
function previewFormat(v: string | null): { format: 'webp' | 'jpeg'; quality: number } | undefined {
  if (v === null || v === '') return undefined;
  const [fmt, q] = v.split(';');
  const format = fmt === 'jpeg' ? 'jpeg' : 'webp';
  const n = Number(q);
  const quality = Number.isInteger(n) && n >= 1 && n <= 100 ? n : 90;
  return { format, quality };
}

/** GET /view: serves a file of input/, output/ or temp/ after real-path containment checks. */
export async function handleView(q: URLSearchParams, folders: Folders, res: ServerResponse): Promise<void> {
  const rawName = q.get('filename');
  if (rawName === null) throw new HttpError(400, 'filename is required');
  const filename = checkRelative(rawName, 'filename', false);
  const subfolder = checkRelative(q.get('subfolder') ?? '', 'subfolder', true);
  const kind = folderKind(q.get('type'), 'output');
  const file = await resolveExisting(rootOf(folders, kind), path.posix.join(subfolder, filename));
  const base = path.basename(file);
  const ext = path.extname(base).toLowerCase();
  const channel = q.get('channel') ?? 'rgba';
  if (channel !== 'rgba' && channel !== 'rgb' && channel !== 'a') throw new HttpError(400, `unknown channel '${channel}'`);
  const preview = previewFormat(q.get('preview'));
  const isImage = INLINE_TYPES[ext]?.startsWith('image/') === true;

  if (isImage && (preview || channel !== 'rgba')) {
    let img = sharp(file, { failOn: 'none' });
    let outName = base;
    if (channel === 'rgb') img = img.removeAlpha();
    if (channel === 'a') {
      const meta = await img.metadata();
      const alpha = meta.hasAlpha ? await sharp(file).extractChannel('alpha').raw().toBuffer() : Buffer.alloc((meta.width ?? 0) * (meta.height ?? 0), 255);
      const rgba = Buffer.alloc(alpha.length * 4);
      for (let i = 0; i < alpha.length; i++) rgba[i * 4 + 3] = alpha[i]!;
      img = sharp(rgba, { raw: { width: meta.width ?? 0, height: meta.height ?? 0, channels: 4 } });
    }
    let data: Buffer;
    let type: string;
    if (preview && channel !== 'a') {
      data = await (preview.format === 'jpeg' ? img.jpeg({ quality: preview.quality }) : img.webp({ quality: preview.quality })).toBuffer();
      type = `image/${preview.format}`;
      outName = `${path.parse(base).name}.${preview.format}`;
    } else {
      data = await img.png().toBuffer();
      type = 'image/png';
      outName = `${path.parse(base).name}.png`;
    }
    res.writeHead(200, { ...fileHeaders(outName, type), 'Content-Length': data.length });
    res.end(data);
    return;
  }
  const st = await stat(file);
  res.writeHead(200, { ...fileHeaders(base, INLINE_TYPES[ext]), 'Content-Length': st.size });
  await pipeFile(file, res);
}
