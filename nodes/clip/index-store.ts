/**
 * A persistent image-embedding index: `<data>/image-index/<name>/manifest.json` (root, model, entries
 * with content hashes) plus `vectors-<id>.f32` (L2-normalised rows, little-endian float32). The
 * vectors file is written first under a fresh name and the manifest then switched to it, so a reader
 * never sees a manifest and vectors from different writes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { readFile, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { writeAtomic } from '../../engine/index.js';
import { ImageIndexError } from './errors.js';
import type { ImageIndex, IndexEntry } from './types.js';

export const INDEX_FOLDER = 'image-index';
const MANIFEST = 'manifest.json';
const FORMAT = 1;
const INDEX_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export const IMAGE_FILE = /\.(png|jpe?g|webp|gif|bmp|tiff?|avif)$/i;

export function checkIndexName(name: string): string {
  if (!INDEX_NAME.test(name)) throw new ImageIndexError(`index name '${name}' must be letters, digits, '.', '_' or '-' (at most 128)`);
  return name;
}

export function indexDir(dataDir: string, name: string): string {
  return path.join(dataDir, INDEX_FOLDER, checkIndexName(name));
}

/** Index names under `<data>/image-index/`. */
export function listIndexes(dataDir: string): string[] {
  const root = path.join(dataDir, INDEX_FOLDER);
  if (!existsSync(root)) return [];
  return readdirSync(root).filter((n) => INDEX_NAME.test(n) && existsSync(path.join(root, n, MANIFEST))).sort();
}

interface Manifest {
  format: number;
  name: string;
  root: string;
  model: string;
  dim: number;
  vectors: string;
  entries: IndexEntry[];
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function isEntry(v: unknown): v is IndexEntry {
  return isObj(v) && typeof v.file === 'string' && typeof v.hash === 'string' && typeof v.size === 'number' && typeof v.mtimeMs === 'number';
}

function parseManifest(json: unknown, file: string): Manifest {
  if (!isObj(json) || json.format !== FORMAT) throw new ImageIndexError(`${file}: not a format-${FORMAT} image index manifest`);
  const { name, root, model, dim, vectors, entries } = json;
  if (typeof name !== 'string' || typeof root !== 'string' || typeof model !== 'string' || typeof vectors !== 'string' || typeof dim !== 'number') {
    throw new ImageIndexError(`${file}: missing name, root, model, dim or vectors`);
  }
  if (!Array.isArray(entries) || !entries.every(isEntry)) throw new ImageIndexError(`${file}: malformed entries`);
  if (path.basename(vectors) !== vectors) throw new ImageIndexError(`${file}: vectors file '${vectors}' must sit beside the manifest`);
  return { format: FORMAT, name, root, model, dim, vectors, entries };
}

/** Reads an index, or undefined when there is none yet. */
export async function readIndex(dir: string): Promise<ImageIndex | undefined> {
  const file = path.join(dir, MANIFEST);
  if (!existsSync(file)) return undefined;
  const m = parseManifest(JSON.parse(await readFile(file, 'utf8')), file);
  const bytes = await readFile(path.join(dir, m.vectors));
  if (bytes.byteLength !== m.entries.length * m.dim * 4) {
    throw new ImageIndexError(`${dir}: ${m.vectors} holds ${bytes.byteLength} bytes, expected ${m.entries.length} x ${m.dim} float32`);
  }
  const vectors = new Float32Array(m.entries.length * m.dim);
  new Uint8Array(vectors.buffer).set(bytes);
  return { name: m.name, root: m.root, model: m.model, dim: m.dim, entries: m.entries, vectors };
}

/** Synchronous manifest read (for CLI lookups of an index's root). */
export function readManifestRoot(dir: string): string {
  const file = path.join(dir, MANIFEST);
  if (!existsSync(file)) throw new ImageIndexError(`no image index at ${dir}`);
  return parseManifest(JSON.parse(readFileSync(file, 'utf8')), file).root;
}

export async function writeIndex(dir: string, index: ImageIndex): Promise<void> {
  const vectors = `vectors-${randomBytes(6).toString('hex')}.f32`;
  await writeAtomic(path.join(dir, vectors), new Uint8Array(index.vectors.buffer, index.vectors.byteOffset, index.vectors.byteLength));
  const m: Manifest = { format: FORMAT, name: index.name, root: index.root, model: index.model, dim: index.dim, vectors, entries: [...index.entries] };
  await writeAtomic(path.join(dir, MANIFEST), new TextEncoder().encode(JSON.stringify(m)));
  for (const f of await readdir(dir)) if (f.startsWith('vectors-') && f !== vectors) await rm(path.join(dir, f), { force: true });
}

export interface ScannedFile {
  readonly file: string;
  readonly size: number;
  readonly mtimeMs: number;
}

/** Image files under `root` (relative, forward slashes, sorted); dot-files and dot-folders skipped. */
export async function scanImages(root: string, recursive: boolean): Promise<ScannedFile[]> {
  const out: ScannedFile[] = [];
  const walk = async (dir: string, prefix: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const full = path.join(dir, e.name);
      if (e.isDirectory() && recursive) await walk(full, `${prefix}${e.name}/`);
      else if (e.isFile() && IMAGE_FILE.test(e.name)) {
        const st = await stat(full);
        out.push({ file: `${prefix}${e.name}`, size: st.size, mtimeMs: st.mtimeMs });
      }
    }
  };
  await walk(root, '');
  return out.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

export async function hashFile(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

export interface UpdateStats {
  readonly added: number;
  readonly reused: number;
  readonly removed: number;
  /** Files that could not be decoded as images; left out of the index (and tried again next time). */
  readonly unreadable: readonly string[];
}

/** Embeddings of files in order; `rowOf[i]` is file i's row, or -1 when it could not be read. */
export interface EmbeddedFiles {
  readonly vectors: Float32Array;
  readonly dim: number;
  readonly rowOf?: Int32Array;
}

export interface UpdateRequest {
  readonly name: string;
  readonly dir: string;
  readonly root: string;
  readonly model: string;
  readonly recursive: boolean;
  /** Embeds files (absolute paths), returning rows x dim L2-normalised vectors. */
  readonly embed: (files: readonly string[]) => Promise<EmbeddedFiles>;
  readonly signal?: AbortSignal;
}

/**
 * Brings an index up to date with its folder. Files whose size and mtime match the stored entry keep
 * their stored hash (git's stat shortcut); others are hashed, and only hashes the index has never seen
 * are embedded, so renamed or copied files are not embedded again.
 */
export async function updateIndex(req: UpdateRequest): Promise<{ index: ImageIndex; stats: UpdateStats }> {
  const old = await readIndex(req.dir).catch((e: unknown) => {
    if (e instanceof ImageIndexError) return undefined;
    throw e;
  });
  const usable = old && old.model === req.model && path.resolve(old.root) === path.resolve(req.root) ? old : undefined;
  const byFile = new Map(usable?.entries.map((e, i) => [e.file, { e, i }]) ?? []);
  const byHash = new Map(usable?.entries.map((e, i) => [e.hash, i]) ?? []);
  const files = await scanImages(req.root, req.recursive);
  const entries: IndexEntry[] = [];
  for (const f of files) {
    req.signal?.throwIfAborted();
    const prev = byFile.get(f.file);
    const hash = prev && prev.e.size === f.size && prev.e.mtimeMs === f.mtimeMs ? prev.e.hash : await hashFile(path.join(req.root, f.file));
    entries.push({ file: f.file, hash, size: f.size, mtimeMs: f.mtimeMs });
  }
  const toEmbed = [...new Set(entries.filter((e) => !byHash.has(e.hash)).map((e) => e.hash))];
  const firstFile = new Map<string, string>();
  for (const e of entries) if (!firstFile.has(e.hash)) firstFile.set(e.hash, e.file);
  const fresh: EmbeddedFiles = toEmbed.length ? await req.embed(toEmbed.map((h) => path.join(req.root, firstFile.get(h) ?? ''))) : { vectors: new Float32Array(0), dim: usable?.dim ?? 0 };
  const dim = usable?.dim ?? fresh.dim;
  if (toEmbed.length && fresh.vectors.length && fresh.dim !== dim) throw new ImageIndexError(`embeddings have ${fresh.dim} dims, the index ${dim}`);
  const freshRow = new Map<string, number>();
  const failed = new Set<string>();
  toEmbed.forEach((h, i) => {
    const row = fresh.rowOf ? fresh.rowOf[i]! : i;
    if (row < 0) failed.add(h);
    else freshRow.set(h, row);
  });
  const unreadable = entries.filter((e) => failed.has(e.hash)).map((e) => e.file);
  if (failed.size) entries.splice(0, entries.length, ...entries.filter((e) => !failed.has(e.hash)));
  const vectors = new Float32Array(entries.length * dim);
  entries.forEach((e, i) => {
    const oldRow = byHash.get(e.hash);
    const src = oldRow !== undefined && usable ? usable.vectors.subarray(oldRow * dim, (oldRow + 1) * dim) : fresh.vectors.subarray((freshRow.get(e.hash) ?? 0) * dim, ((freshRow.get(e.hash) ?? 0) + 1) * dim);
    vectors.set(src, i * dim);
  });
  const index: ImageIndex = { name: req.name, root: path.resolve(req.root), model: req.model, dim, entries, vectors };
  const kept = new Set(entries.map((e) => e.file));
  const stats: UpdateStats = {
    added: entries.filter((e) => freshRow.has(e.hash)).length,
    reused: entries.filter((e) => !freshRow.has(e.hash)).length,
    removed: (usable?.entries ?? []).filter((e) => !kept.has(e.file)).length,
    unreadable,
  };
  const unchanged = usable && stats.added === 0 && stats.removed === 0 && usable.entries.length === entries.length && usable.entries.every((e, i) => e.file === entries[i]?.file && e.mtimeMs === entries[i]?.mtimeMs);
  if (!unchanged) await writeIndex(req.dir, index);
  return { index, stats };
}
