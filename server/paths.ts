import { realpath, stat, mkdir } from 'node:fs/promises';
import { containedPathAsync, PathEscapeError } from '../engine/index.js';
import { HttpError } from './http-util.js';

export type FolderKind = 'input' | 'output' | 'temp';

export function folderKind(v: string | null | undefined, fallback: FolderKind): FolderKind {
  if (v === null || v === undefined || v === '') return fallback;
  if (v === 'input' || v === 'output' || v === 'temp') return v;
  throw new HttpError(400, `unknown folder type '${v}'`);
}

/** Longest file or folder name (bytes), as most file systems allow. */
export const MAX_NAME_BYTES = 255;
/** Longest relative name (subfolders included) a client may give. */
export const MAX_RELATIVE_BYTES = 1024;

/**
 * Rejects names that are absolute, carry `..` segments, NUL or other control characters, or drive
 * letters, whatever the separator (`/` or `\`), or names longer than the file system takes. Query
 * values arrive percent-decoded already.
 */
export function checkRelative(name: string, what: string, allowEmpty: boolean): string {
  if (name === '') {
    if (allowEmpty) return '';
    throw new HttpError(400, `${what} is empty`);
  }
  if (/[\x00-\x1f]/.test(name)) throw new HttpError(400, `${what} contains control characters`);
  const slashed = name.replace(/\\/g, '/');
  if (slashed.startsWith('/') || /^[A-Za-z]:/.test(slashed)) throw new HttpError(400, `${what} must be relative`);
  const segments = slashed.split('/');
  if (segments.some((seg) => seg === '..')) throw new HttpError(400, `${what} must not contain '..'`);
  // NOTE: file systems refuse longer names (ENAMETOOLONG); refused here so no fs error reaches a client.
  const longest = Math.max(...segments.map((seg) => Buffer.byteLength(seg, 'utf8')));
  if (longest > MAX_NAME_BYTES) throw new HttpError(400, `${what} is too long: a name of ${longest} bytes (at most ${MAX_NAME_BYTES})`);
  const total = Buffer.byteLength(slashed, 'utf8');
  if (total > MAX_RELATIVE_BYTES) throw new HttpError(400, `${what} is too long: ${total} bytes (at most ${MAX_RELATIVE_BYTES})`);
  return slashed;
}

/** The engine's one containment rule (real path inside the folder), as an HTTP status: 403 on escape. */
async function contained(root: string, rel: string): Promise<string> {
  try {
    return await containedPathAsync(root, rel);
  } catch (e) {
    if (e instanceof PathEscapeError) throw new HttpError(403, 'path escapes its folder');
    throw e;
  }
}

/** Real path of an existing file below `root` (symlinks resolved on both sides), 403 on escape, 404 if missing. */
export async function resolveExisting(root: string, rel: string): Promise<string> {
  const lexical = await contained(root, rel);
  let real: string;
  try {
    real = await realpath(lexical);
  } catch {
    throw new HttpError(404, 'file not found');
  }
  const st = await stat(real);
  if (!st.isFile()) throw new HttpError(404, 'not a file');
  return real;
}

/**
 * A directory below `root`, created if needed, whose real path stays inside `root`: the deepest
 * existing ancestor is resolved before anything is created, so a symlinked subfolder cannot make
 * mkdir write outside.
 */
export async function ensureDirInside(root: string, rel: string): Promise<string> {
  await mkdir(root, { recursive: true });
  const target = await contained(root, rel);
  await mkdir(target, { recursive: true });
  // Checked again once it exists: a link swapped in meanwhile is refused here.
  await contained(root, rel);
  return realpath(target);
}
