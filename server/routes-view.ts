import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { ServerResponse } from 'node:http';
import sharp, { type Metadata } from 'sharp';
import type { Folders } from '../runtime/services.js';
import { checkedMetadata, ImageTooLargeError, MAX_IMAGE_PIXELS } from '../imaging/codec.js';
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
    const { data, type, outName } = await reencode(file, base, channel, preview);
    res.writeHead(200, { ...fileHeaders(outName, type), 'Content-Length': data.length });
    res.end(data);
    return;
  }
  const st = await stat(file);
  res.writeHead(200, { ...fileHeaders(base, INLINE_TYPES[ext]), 'Content-Length': st.size });
  await pipeFile(file, res);
}

/**
 * The re-encoded copy `/view` serves for `preview` / `channel`. The header is checked against the
 * pixel limit before anything is decoded (413 naming the size); decoding and encoding run in
 * libvips' threads (sharp), so nothing big happens on the event loop. A file that is not an image
 * sharp reads, or is cut short, is a 415.
 */
async function reencode(file: string, base: string, channel: 'rgba' | 'rgb' | 'a', preview: { format: 'webp' | 'jpeg'; quality: number } | undefined): Promise<{ data: Buffer; type: string; outName: string }> {
  let meta: Metadata;
  try {
    meta = await checkedMetadata(file);
  } catch (e) {
    if (e instanceof ImageTooLargeError) throw new HttpError(413, `cannot re-encode '${base}': ${e.message}`);
    throw new HttpError(415, `'${base}' is not an image that can be decoded`);
  }
  const stem = path.parse(base).name;
  const opts = { limitInputPixels: MAX_IMAGE_PIXELS, failOn: 'none' as const };
  try {
    if (channel === 'a') {
      // ComfyUI: the alpha on transparent black (opaque when the image has none).
      const bands = meta.channels ?? 3;
      const alphaBand = meta.hasAlpha ? bands - 1 : bands;
      const { data: alpha, info } = await sharp(file, opts).ensureAlpha().extractChannel(alphaBand as 0 | 1 | 2 | 3).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
      const { width, height } = info;
      const data = await sharp({ create: { width, height, channels: 3, background: { r: 0, g: 0, b: 0 } } })
        .joinChannel(alpha, { raw: { width, height, channels: 1 } })
        .png()
        .toBuffer();
      return { data, type: 'image/png', outName: `${stem}.png` };
    }
    let img = sharp(file, opts);
    if (channel === 'rgb') img = img.removeAlpha();
    if (preview) {
      const data = await (preview.format === 'jpeg' ? img.jpeg({ quality: preview.quality }) : img.webp({ quality: preview.quality })).toBuffer();
      return { data, type: `image/${preview.format}`, outName: `${stem}.${preview.format}` };
    }
    return { data: await img.png().toBuffer(), type: 'image/png', outName: `${stem}.png` };
  } catch (e) {
    throw new HttpError(415, `cannot re-encode '${base}': ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  }
}
