/**
 * A local stand-in for the Hugging Face hub on 127.0.0.1: serves folders under the hub's URL layout
 * (`/api/models/<repo>/tree/<rev>`, `/api/models/<repo>/revision/<rev>`, `/<repo>/resolve/<rev>/<path>`)
 * with LFS-style redirects to a second "CDN" server, Range support, paginated listings, and switches for
 * the failures a real download meets (dropped connections, wrong checksums, auth, missing files).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export interface FakeHubOptions {
  /** repo id -> folder served as the repository's `main` revision. */
  repos: Record<string, string>;
  /** When set, every request to the hub (not the CDN) needs `Authorization: Bearer <token>`. */
  token?: string;
  /** Entries per tree page (Link rel="next" pagination). */
  pageSize?: number;
  /** Repo path -> byte count after which the first response for it is cut off. */
  dropAfter?: Map<string, number>;
  /** Repo paths whose listing announces a wrong sha256 (the content is served unchanged). */
  wrongSha256?: Set<string>;
  /** The tree API answers 404 (mirrors without it); the revision API still works. */
  noTreeApi?: boolean;
  /** Serve whole files with 200 even when a Range is asked for. */
  ignoreRange?: boolean;
}

export interface RequestLog {
  readonly server: 'hub' | 'cdn';
  readonly url: string;
  readonly range?: string;
  readonly auth?: string;
}

export interface FakeHub {
  readonly endpoint: string;
  readonly requests: RequestLog[];
  readonly options: FakeHubOptions;
  close(): Promise<void>;
}

interface Entry {
  path: string;
  size: number;
  sha256: string;
  gitOid: string;
  lfs: boolean;
}

function walk(root: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(path.join(root, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...walk(root, rel));
    else out.push(rel);
  }
  return out.sort();
}

function entries(root: string, opts: FakeHubOptions): Entry[] {
  return walk(root).map((p) => {
    const bytes = readFileSync(path.join(root, p));
    const sha256 = opts.wrongSha256?.has(p) ? createHash('sha256').update('not the content').digest('hex') : createHash('sha256').update(bytes).digest('hex');
    const gitOid = createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
    // NOTE: the hub stores binaries and large files in LFS; the rest (configs, tokenizer files) in git.
    return { path: p, size: bytes.length, sha256, gitOid, lfs: p.endsWith('.onnx') || p.endsWith('.pb') || bytes.length > 1_000_000 };
  });
}

function send(res: http.ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(body);
}

function serveFile(req: http.IncomingMessage, res: http.ServerResponse, file: string, repoPath: string, opts: FakeHubOptions, extra: Record<string, string>): void {
  const bytes = readFileSync(file);
  const m = opts.ignoreRange ? null : /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const start = m ? Number(m[1]) : 0;
  if (start >= bytes.length && m) {
    res.writeHead(416, { 'content-range': `bytes */${bytes.length}` });
    res.end();
    return;
  }
  const body = bytes.subarray(start);
  res.writeHead(m ? 206 : 200, {
    'content-length': String(body.length),
    'accept-ranges': 'bytes',
    ...(m ? { 'content-range': `bytes ${start}-${bytes.length - 1}/${bytes.length}` } : {}),
    ...extra,
  });
  const cut = opts.dropAfter?.get(repoPath);
  if (cut !== undefined && cut < body.length) {
    opts.dropAfter?.delete(repoPath);
    res.write(body.subarray(0, cut), () => setTimeout(() => res.socket?.destroy(), 20));
    return;
  }
  res.end(body);
}

export async function startFakeHub(opts: FakeHubOptions): Promise<FakeHub> {
  const requests: RequestLog[] = [];
  const listed = new Map<string, Entry[]>();
  const entriesOf = (root: string): Entry[] => {
    let e = listed.get(root);
    if (!e) listed.set(root, (e = entries(root, opts)));
    return e;
  };
  const listen = (server: http.Server): Promise<number> =>
    new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));

  const cdn = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://cdn');
    requests.push({ server: 'cdn', url: url.pathname, range: req.headers.range, auth: req.headers.authorization });
    const m = /^\/lfs\/([^/]+\/[^/]+)\/(.+)$/.exec(decodeURIComponent(url.pathname));
    const root = m ? opts.repos[m[1]] : undefined;
    if (!m || !root) return send(res, 404, '{}');
    serveFile(req, res, path.join(root, m[2]), m[2], opts, {});
  });
  const cdnPort = await listen(cdn);

  const hub = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://hub');
    const pathname = decodeURIComponent(url.pathname);
    requests.push({ server: 'hub', url: `${pathname}${url.search}`, range: req.headers.range, auth: req.headers.authorization });
    if (opts.token && req.headers.authorization !== `Bearer ${opts.token}`) {
      return send(res, 401, '{"error":"Invalid credentials in Authorization header"}', { 'x-error-code': 'RepoNotFound' });
    }
    const api = /^\/api\/models\/([^/]+\/[^/]+)\/(tree|revision)\/([^/]+)$/.exec(pathname);
    const file = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(pathname);
    const repo = api?.[1] ?? file?.[1];
    const rev = api?.[3] ?? file?.[2];
    const root = repo ? opts.repos[repo] : undefined;
    if (!root) return send(res, 404, '{"error":"Repository not found"}', { 'x-error-code': 'RepoNotFound', 'x-error-message': 'Repository not found' });
    if (rev !== 'main') return send(res, 404, '{}', { 'x-error-code': 'RevisionNotFound', 'x-error-message': `Invalid rev id: ${rev}` });
    const all = entriesOf(root);
    if (api?.[2] === 'tree') {
      if (opts.noTreeApi) return send(res, 404, '{"error":"Not Found"}');
      const size = opts.pageSize ?? 1000;
      const from = Number(url.searchParams.get('cursor') ?? '0');
      const page = all.slice(from, from + size).map((e) => ({
        type: 'file', oid: e.lfs ? `${e.gitOid}` : e.gitOid, size: e.size, path: e.path,
        ...(e.lfs ? { lfs: { oid: e.sha256, size: e.size, pointerSize: 134 } } : {}),
      }));
      const next: Record<string, string> = from + size < all.length ? { link: `<http://${req.headers.host ?? ''}${url.pathname}?recursive=true&cursor=${from + size}>; rel="next"` } : {};
      return send(res, 200, JSON.stringify(page), next);
    }
    if (api?.[2] === 'revision') {
      const siblings = all.map((e) => ({ rfilename: e.path, size: e.size, blobId: e.gitOid, ...(e.lfs ? { lfs: { sha256: e.sha256, size: e.size } } : {}) }));
      return send(res, 200, JSON.stringify({ id: repo, sha: 'f'.repeat(40), siblings }));
    }
    const repoPath = file?.[3] ?? '';
    const entry = all.find((e) => e.path === repoPath);
    if (!entry || !statSync(path.join(root, repoPath)).isFile()) {
      return send(res, 404, '{}', { 'x-error-code': 'EntryNotFound', 'x-error-message': `${repoPath} does not exist on "main"` });
    }
    const linked = { 'x-repo-commit': 'c'.repeat(40) };
    if (entry.lfs) {
      res.writeHead(302, {
        location: `http://127.0.0.1:${cdnPort}/lfs/${repo}/${repoPath}`,
        'x-linked-etag': `"${entry.sha256}"`, 'x-linked-size': String(entry.size), ...linked,
      });
      return res.end();
    }
    serveFile(req, res, path.join(root, repoPath), repoPath, opts, { etag: `"${entry.gitOid}"`, ...linked });
  });
  const hubPort = await listen(hub);
  const close = (s: http.Server): Promise<void> => new Promise((r) => { s.closeAllConnections(); s.close(() => r()); });
  return { endpoint: `http://127.0.0.1:${hubPort}`, requests, options: opts, close: async () => { await close(hub); await close(cdn); } };
}
