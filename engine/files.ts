import { lstatSync, realpathSync } from 'node:fs';
import { lstat as lstatAsync, mkdir, open, readdir, realpath as realpathAsync, rename, writeFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { EngineError } from './errors.js';

export type FolderType = 'output' | 'temp' | 'input';

/** A file an output node may write: where it goes and how clients refer to it. */
export interface ReservedFile {
  readonly path: string;
  readonly filename: string;
  readonly subfolder: string;
  readonly type: FolderType;
}

export interface ReserveRequest {
  readonly type: 'output' | 'temp';
  /** ComfyUI filename_prefix; may contain subfolders (`portraits/take1`). */
  readonly prefix: string;
  readonly extension: string;
  readonly count: number;
  /** Node id, so a host can derive stable names per prompt and node. */
  readonly nodeId: string;
}

/** The folders a node may use and the host's output naming policy. */
export interface FileAccess {
  readonly inputDir: string;
  readonly outputDir: string;
  readonly tempDir: string;
  reserve(req: ReserveRequest): Promise<ReservedFile[]>;
  /** Writes through a temp file and a rename, so readers never see a torn file. */
  writeAtomic(filePath: string, data: Uint8Array): Promise<void>;
}

export class PathEscapeError extends EngineError {
  override name = 'PathEscapeError';
}

function isInside(root: string, p: string): boolean {
  return p === root || p.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

/** Lexical containment only: `sub` resolved below `root`, no `..` escape. Symlinks are not looked at. */
function lexical(root: string, sub: string): { base: string; full: string } {
  if (sub.includes('\0')) throw new PathEscapeError(`'${sub.replace(/\0/g, '\\0')}' contains a NUL byte`);
  const base = path.resolve(root);
  const full = path.resolve(base, sub);
  if (!isInside(base, full)) throw new PathEscapeError(`'${sub}' resolves outside its folder`);
  return { base, full };
}

/** The parts of a path that may be missing: walking up past them reaches the existing part. */
const MISSING = new Set(['ENOENT', 'ENOTDIR']);

function escapeOf(sub: string, e: unknown): PathEscapeError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return new PathEscapeError(`'${sub}' cannot be resolved${code ? ` (${code})` : ''}`);
}

/** Real path of the deepest existing ancestor of `p` (symlinks resolved), joined with the part not created yet. */
function realOfExistingSync(p: string, sub: string): string {
  const rest: string[] = [];
  for (let probe = p; ; ) {
    try {
      return path.join(realpathSync(probe), ...rest);
    } catch (e) {
      const parent = path.dirname(probe);
      if (!MISSING.has((e as NodeJS.ErrnoException).code ?? '') || parent === probe) throw escapeOf(sub, e);
      // An entry that exists but does not resolve is a dangling link: where it would lead is unknown.
      if (lstatSync(probe, { throwIfNoEntry: false })) throw escapeOf(sub, { code: 'a dangling symbolic link' });
      rest.unshift(path.basename(probe));
      probe = parent;
    }
  }
}

async function realOfExisting(p: string, sub: string): Promise<string> {
  const rest: string[] = [];
  for (let probe = p; ; ) {
    try {
      return path.join(await realpathAsync(probe), ...rest);
    } catch (e) {
      const parent = path.dirname(probe);
      if (!MISSING.has((e as NodeJS.ErrnoException).code ?? '') || parent === probe) throw escapeOf(sub, e);
      if (await lstatAsync(probe).then(() => true, () => false)) throw escapeOf(sub, { code: 'a dangling symbolic link' });
      rest.unshift(path.basename(probe));
      probe = parent;
    }
  }
}

/**
 * Resolves `sub` below `root` (input/, output/, temp/ and folders like them), refusing anything
 * whose real path lands outside it: `..` segments, absolute paths, and symlinks (a linked
 * subfolder or file pointing elsewhere) are all refused with PathEscapeError. The existing part of
 * the path is resolved with fs.realpath, so a folder that does not exist yet is checked through its
 * deepest existing ancestor before anyone creates it. `root` itself may be a symlink. Returns the
 * lexical path (`root/sub`). The one rule for every user-supplied name under those folders; model
 * folders use `containedLexicalPath`, since symlinked model folders are allowed.
 */
export function containedPath(root: string, sub: string): string {
  const { base, full } = lexical(root, sub);
  const realBase = realOfExistingSync(base, sub);
  if (!isInside(realBase, realOfExistingSync(full, sub))) throw new PathEscapeError(`'${sub}' resolves outside its folder (through a symbolic link)`);
  return full;
}

/** `containedPath` with asynchronous fs.realpath, for request handlers. */
export async function containedPathAsync(root: string, sub: string): Promise<string> {
  const { base, full } = lexical(root, sub);
  const realBase = await realOfExisting(base, sub);
  if (!isInside(realBase, await realOfExisting(full, sub))) throw new PathEscapeError(`'${sub}' resolves outside its folder (through a symbolic link)`);
  return full;
}

/**
 * Lexical containment only (no `..` escape, no absolute path); symlinks below `root` are followed.
 * For model folders, where a model may be a link to a folder elsewhere.
 */
export function containedLexicalPath(root: string, sub: string): string {
  return lexical(root, sub).full;
}

export async function writeAtomic(filePath: string, data: Uint8Array): Promise<void> {
  await mkdir(path.dirname(filePath), { recursive: true });
  const tmp = `${filePath}.${randomBytes(6).toString('hex')}.partial`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, filePath);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/**
 * Like `writeAtomic`, but the temp file is hidden (`.<name>.<marker><hex>.partial`, so a sweep can
 * tell its own leftovers by `marker`) and fsync'd before the rename: after a crash the name points
 * at complete bytes or at nothing.
 */
export async function writeFileDurable(filePath: string, data: Uint8Array, marker = ''): Promise<void> {
  await mkdir(path.dirname(filePath), { recursive: true });
  const tmp = path.join(path.dirname(filePath), `.${path.basename(filePath)}.${marker}${randomBytes(6).toString('hex')}.partial`);
  try {
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, filePath);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/**
 * Deletes the files under `root`, down to `maxDepth` folders deep, whose names match `pattern`: the
 * temp files a killed process left behind. A folder that cannot be read is skipped. Returns their paths.
 */
export async function removeMatchingFiles(root: string, pattern: RegExp, maxDepth: number): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const e of entries) {
    const full = path.join(root, e.name);
    if (e.isDirectory() && maxDepth > 0) removed.push(...(await removeMatchingFiles(full, pattern, maxDepth - 1)));
    else if (e.isFile() && pattern.test(e.name)) {
      await rm(full, { force: true });
      removed.push(full);
    }
  }
  return removed;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Replaces ComfyUI's `%date:yyyy-MM-dd%` style tokens in a filename prefix. */
export function expandPrefix(prefix: string, now = new Date()): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return prefix.replace(/%date:([^%]+)%/g, (_m, fmt: string) =>
    fmt
      .replace(/yyyy/g, String(now.getFullYear()))
      .replace(/yy/g, pad(now.getFullYear() % 100))
      .replace(/MM/g, pad(now.getMonth() + 1))
      .replace(/dd/g, pad(now.getDate()))
      .replace(/hh/g, pad(now.getHours()))
      .replace(/mm/g, pad(now.getMinutes()))
      .replace(/ss/g, pad(now.getSeconds())),
  );
}

/** Splits a prefix into its subfolder and file stem, refusing escapes from the folder. */
export function splitPrefix(root: string, prefix: string): { subfolder: string; stem: string; dir: string } {
  const expanded = expandPrefix(prefix).replace(/\\/g, '/');
  const subfolder = path.posix.dirname(expanded) === '.' ? '' : path.posix.dirname(expanded);
  const stem = path.posix.basename(expanded) || 'latentflow';
  const dir = containedPath(root, subfolder);
  return { subfolder, stem, dir };
}

/**
 * ComfyUI's naming: `{stem}_{counter:05}_.{ext}`, counter one past the highest already in the folder.
 * Reservations in one process are serialised so concurrent jobs never pick the same counter.
 */
export class CounterNaming {
  private readonly next = new Map<string, number>();
  private lock: Promise<unknown> = Promise.resolve();

  constructor(private readonly dirs: { output: string; temp: string }) {}

  reserve(req: ReserveRequest): Promise<ReservedFile[]> {
    const run = this.lock.then(() => this.reserveNow(req));
    this.lock = run.catch(() => undefined);
    return run;
  }

  private async reserveNow(req: ReserveRequest): Promise<ReservedFile[]> {
    const root = req.type === 'output' ? this.dirs.output : this.dirs.temp;
    const { subfolder, stem, dir } = splitPrefix(root, req.prefix);
    await mkdir(dir, { recursive: true });
    const key = `${dir}\0${stem}\0${req.extension}`;
    let counter = this.next.get(key);
    if (counter === undefined) {
      const re = new RegExp(`^${escapeRegExp(stem)}_(\\d+)_?\\.`);
      let max = 0;
      for (const f of await readdir(dir)) {
        const m = re.exec(f);
        if (m) max = Math.max(max, Number(m[1]));
      }
      counter = max + 1;
    }
    const files: ReservedFile[] = [];
    for (let i = 0; i < req.count; i++, counter++) {
      const filename = `${stem}_${String(counter).padStart(5, '0')}_.${req.extension}`;
      files.push({ path: path.join(dir, filename), filename, subfolder, type: req.type });
    }
    this.next.set(key, counter);
    return files;
  }
}

/** The default FileAccess: ComfyUI's folders and counter naming. */
export function localFiles(dirs: { input: string; output: string; temp: string }): FileAccess {
  const naming = new CounterNaming(dirs);
  return {
    inputDir: dirs.input,
    outputDir: dirs.output,
    tempDir: dirs.temp,
    reserve: (req) => naming.reserve(req),
    writeAtomic,
  };
}
