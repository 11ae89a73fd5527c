import { realpath, stat, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { HttpError } from './http-util.js';

export type FolderKind = 'input' | 'output' | 'temp';

export function folderKind(v: string | null | undefined, fallback: FolderKind): FolderKind {
  if (v === null || v === undefined || v === '') return fallback;
  if (v === 'input' || v === 'output' || v === 'temp') return v;
  throw new HttpError(400, `unknown folder type '${v}'`);
}

/**
 * Rejects names that are absolute, carry `..` segments, NUL or other control characters, or drive
 * letters, whatever the separator (`/` or `\`). Query values arrive percent-decoded already.
 */
export function checkRelative(name: string, what: string, allowEmpty: boolean): string {
  if (name === '') {
    if (allowEmpty) return '';
    throw new HttpError(400, `${what} is empty`);
  }
  if (/[\x00-\x1f]/.test(name)) throw new HttpError(400, `${what} contains control characters`);
  const slashed = name.replace(/\\/g, '/');
  if (slashed.startsWith('/') || /^[A-Za-z]:/.test(slashed)) throw new HttpError(400, `${what} must be relative`);
  if (slashed.split('/').some((seg) => seg === '..')) throw new HttpError(400, `${what} must not contain '..'`);
  return slashed;
}

function inside(root: string, p: string): boolean {
  return p === root || p.startsWith(root + path.sep);
}

/** Real path of an existing file below `root` (symlinks resolved on both sides), 403 on escape, 404 if missing. */
export async function resolveExisting(root: string, rel: string): Promise<string> {
  const realRoot = await realpath(root).catch(() => path.resolve(root));
  const lexical = path.resolve(realRoot, rel);
  if (!inside(realRoot, lexical)) throw new HttpError(403, 'path escapes its folder');
  let real: string;
  try {
    real = await realpath(lexical);
  } catch {
    throw new HttpError(404, 'file not found');
  }
  if (!inside(realRoot, real)) throw new HttpError(403, 'path escapes its folder');
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
  const realRoot = await realpath(root);
  const target = path.resolve(realRoot, rel);
  if (!inside(realRoot, target)) throw new HttpError(403, 'path escapes its folder');
  let probe = target;
  for (;;) {
    try {
      const real = await realpath(probe);
      if (!inside(realRoot, real)) throw new HttpError(403, 'path escapes its folder');
      break;
    } catch (e) {
      if (e instanceof HttpError) throw e;
      probe = path.dirname(probe);
    }
  }
  await mkdir(target, { recursive: true });
  const real = await realpath(target);
  if (!inside(realRoot, real)) throw new HttpError(403, 'path escapes its folder');
  return real;
}
