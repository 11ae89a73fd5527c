import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { ServerResponse } from 'node:http';
import { HttpError, pipeFile, sendText } from './http-util.js';
import { resolveExisting } from './paths.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.map': 'application/json; charset=utf-8',
};

/** `editor/dist` of the package: from the sources (`server/`) or the compiled tree (`dist/server/`). */
export function defaultEditorDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const up of ['..', '../..']) {
    const dir = path.resolve(here, up, 'editor', 'dist');
    if (existsSync(dir)) return dir;
  }
  return path.resolve(here, '..', 'editor', 'dist');
}

const NOT_BUILT = `<!doctype html>
<html><head><meta charset="utf-8"><title>latentflow</title></head>
<body><h1>latentflow</h1>
<p>The server is running, but the editor is not built. Build it with <code>npm run build</code> in <code>editor/</code>,
or use the HTTP API (<a href="/object_info">/object_info</a>, <a href="/queue">/queue</a>, <a href="/history">/history</a>).</p>
</body></html>`;

/** Serves the editor's own files (trusted: they come from the package, not from users). */
export async function serveStatic(editorDir: string, pathname: string, res: ServerResponse): Promise<void> {
  if (!existsSync(editorDir)) {
    if (pathname === '/' || pathname === '/index.html') return sendText(res, 200, NOT_BUILT, 'text/html; charset=utf-8');
    throw new HttpError(404, 'not found');
  }
  let rel: string;
  try {
    rel = decodeURIComponent(pathname).replace(/^\/+/, '');
  } catch {
    throw new HttpError(400, 'bad path encoding');
  }
  if (rel === '' || rel.endsWith('/')) rel += 'index.html';
  if (rel.includes('\0') || rel.split(/[\\/]/).includes('..')) throw new HttpError(400, 'bad path');
  const file = await resolveExisting(editorDir, rel);
  const type = TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
  res.writeHead(200, { 'Content-Type': type, 'X-Content-Type-Options': 'nosniff', 'Cache-Control': rel === 'index.html' ? 'no-cache' : 'max-age=3600' });
  await pipeFile(file, res);
}
