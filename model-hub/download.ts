/**
 * One file from the hub into place, resumable: bytes go to `<dest>.partial`; a later attempt asks for
 * the rest with `Range: bytes=<have>-` and appends on 206 (restarts on 200, which servers send when they
 * ignore ranges). Size, sha256 (LFS) and git blob sha1 (small files) are checked before the partial is
 * renamed to `dest`; a file that fails its check is deleted, never placed.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ChecksumMismatchError, DownloadError, HubRequestError, PullAbortedError } from './errors.js';
import type { HubClient, LinkedHeaders } from './hub-client.js';

export interface ExpectedFile {
  readonly size?: number;
  readonly sha256?: string;
  readonly gitOid?: string;
}

export interface DownloadOptions {
  signal?: AbortSignal;
  /** Called with the bytes of this file present so far (resumed bytes included). */
  onProgress?: (received: number, total: number | undefined) => void;
  /** Attempts after a dropped connection or a 5xx/429 answer (default 5). */
  retries?: number;
  /** First retry delay; doubles on each further retry (default 1000 ms). */
  retryDelayMs?: number;
}

export interface DownloadResult {
  readonly bytes: number;
  readonly sha256: string;
  /** Bytes that were already in the partial file when this call started (0 = fresh download). */
  readonly resumedFrom: number;
  /** False when `dest` was already complete and verified. */
  readonly downloaded: boolean;
  readonly commit?: string;
}

const sizeOf = (p: string): Promise<number> => stat(p).then((s) => s.size, () => -1);

/** sha256 of a file, and its git blob sha1 (`blob <size>\0` + content) when asked. */
async function digestFile(p: string, withGit: boolean): Promise<{ sha256: string; git?: string; size: number }> {
  const size = await sizeOf(p);
  const sha = createHash('sha256');
  const git = withGit ? createHash('sha1').update(`blob ${size}\0`) : undefined;
  await pipeline(createReadStream(p), async function* (src: AsyncIterable<Buffer>) {
    for await (const chunk of src) {
      sha.update(chunk);
      git?.update(chunk);
    }
  });
  return { sha256: sha.digest('hex'), git: git?.digest('hex'), size };
}

/** Throws ChecksumMismatchError naming what differs; `expected` merges the listing with the hub's headers. */
function checkDigest(file: string, got: { sha256: string; git?: string; size: number }, expected: ExpectedFile): void {
  if (expected.size !== undefined && got.size !== expected.size) {
    throw new ChecksumMismatchError(`${file}: got ${got.size} bytes, the hub announced ${expected.size}`);
  }
  if (expected.sha256 && got.sha256 !== expected.sha256.toLowerCase()) {
    throw new ChecksumMismatchError(`${file}: sha256 ${got.sha256} differs from the hub's ${expected.sha256}`);
  }
  if (expected.gitOid && got.git !== undefined && got.git !== expected.gitOid.toLowerCase()) {
    throw new ChecksumMismatchError(`${file}: git blob sha1 ${got.git} differs from the hub's ${expected.gitOid}`);
  }
}

/** Merges what the listing said with the hub's response headers (the listing wins when both exist). */
function mergeExpected(e: ExpectedFile, linked: LinkedHeaders | undefined): ExpectedFile {
  const linkedSha = linked?.sha256 && /^[0-9a-f]{64}$/i.test(linked.sha256) ? linked.sha256 : undefined;
  // A git-stored file's ETag is its blob sha1; it is only trusted when no redirect replaced it (no linked sha).
  const etagGit = !linkedSha && linked?.etag && /^[0-9a-f]{40}$/i.test(linked.etag) ? linked.etag : undefined;
  return { size: e.size ?? linked?.size, sha256: e.sha256 ?? linkedSha, gitOid: e.gitOid ?? (e.sha256 || linkedSha ? undefined : etagGit) };
}

function contentRangeStart(v: string | null): number | undefined {
  const m = v ? /^bytes\s+(\d+)-\d+\/(\d+|\*)$/i.exec(v.trim()) : null;
  return m ? Number(m[1]) : undefined;
}

function contentRangeTotal(v: string | null): number | undefined {
  const m = v ? /\/(\d+)$/.exec(v.trim()) : null;
  return m ? Number(m[1]) : undefined;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    const t = setTimeout(done, ms);
    function done(): void {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }
    function onAbort(): void {
      clearTimeout(t);
      reject(new PullAbortedError('interrupted'));
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** A fetch body as an async iterable; cancelling on exit closes the connection when we stop early. */
async function* chunksOf(body: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

const transient = (e: unknown): boolean => !(e instanceof HubRequestError) || e.status === 429 || e.status >= 500;

/** Downloads `url` to `dest` through `<dest>.partial`, resuming whatever the partial already holds. */
export async function downloadFile(client: HubClient, url: string, dest: string, expected: ExpectedFile, opts: DownloadOptions = {}): Promise<DownloadResult> {
  const { signal } = opts;
  const retries = opts.retries ?? 5;
  const partial = `${dest}.partial`;
  const aborted = (): PullAbortedError => new PullAbortedError(`interrupted while downloading ${url}; the partial file ${partial} is kept for a resume`);

  if ((await sizeOf(dest)) >= 0) {
    const got = await digestFile(dest, expected.gitOid !== undefined);
    try {
      checkDigest(dest, got, expected);
      opts.onProgress?.(got.size, got.size);
      return { bytes: got.size, sha256: got.sha256, resumedFrom: got.size, downloaded: false };
    } catch (e) {
      if (!(e instanceof ChecksumMismatchError)) throw e;
      await rm(dest, { force: true });
    }
  }

  const startedWith = Math.max(0, await sizeOf(partial));
  let want = expected;
  let commit: string | undefined;
  let restartedAfterMismatch = false;
  for (let attempt = 0; ; attempt++) {
    if (signal?.aborted) throw aborted();
    let have = Math.max(0, await sizeOf(partial));
    if (want.size !== undefined && have > want.size) {
      await rm(partial, { force: true });
      have = 0;
    }
    try {
      if (want.size === undefined || have < want.size || have === 0) {
        const headers: Record<string, string> = have > 0 ? { range: `bytes=${have}-` } : {};
        const { response, linked } = await client.get(url, { signal, headers, what: `downloading ${url}` });
        commit ??= linked.commit;
        want = mergeExpected(want, linked);
        const total = want.size;
        let append = false;
        if (response.status === 416) {
          await response.body?.cancel();
          const end = contentRangeTotal(response.headers.get('content-range'));
          // Nothing left to send: the partial is already whole (its checks below decide), else start over.
          if (end !== have) {
            await rm(partial, { force: true });
            throw new DownloadError(`${url}: the server refused the range ${have}- (file has ${end ?? '?'} bytes)`);
          }
        } else {
          if (response.status === 206) {
            append = contentRangeStart(response.headers.get('content-range')) === have;
            if (!append) {
              await response.body?.cancel();
              await rm(partial, { force: true });
              throw new DownloadError(`${url}: the server answered a range other than ${have}-`);
            }
          }
          if (!response.body) throw new DownloadError(`${url}: empty response body`);
          let received = append ? have : 0;
          opts.onProgress?.(received, total);
          const tap = new Transform({
            transform(chunk: Buffer, _enc, cb) {
              received += chunk.length;
              opts.onProgress?.(received, total);
              cb(null, chunk);
            },
          });
          await pipeline(chunksOf(response.body), tap, createWriteStream(partial, { flags: append ? 'a' : 'w' }), { signal });
        }
      }
      const got = await digestFile(partial, want.gitOid !== undefined);
      try {
        checkDigest(url, got, want);
      } catch (e) {
        await rm(partial, { force: true });
        // A resumed file may have been stitched from two versions of a moving branch: one fresh try.
        if (e instanceof ChecksumMismatchError && startedWith > 0 && !restartedAfterMismatch) {
          restartedAfterMismatch = true;
          continue;
        }
        throw e;
      }
      await rename(partial, dest);
      return { bytes: got.size, sha256: got.sha256, resumedFrom: startedWith, downloaded: true, commit };
    } catch (e) {
      if (signal?.aborted) throw aborted();
      if (e instanceof ChecksumMismatchError || !transient(e)) throw e;
      if (attempt >= retries) {
        throw new DownloadError(`${url}: giving up after ${attempt + 1} attempts (${e instanceof Error ? e.message : String(e)}); run the pull again to resume`);
      }
      await sleep((opts.retryDelayMs ?? 1000) * 2 ** attempt, signal);
    }
  }
}
