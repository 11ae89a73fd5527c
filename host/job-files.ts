import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { containedPath, removeMatchingFiles, splitPrefix, writeFileDurable, type FileAccess, type ReserveRequest, type ReservedFile } from '../engine/index.js';

/** The folders output nodes use. */
export interface JobDirs {
  readonly input: string;
  readonly output: string;
  readonly temp: string;
}

/** A file a job wrote: where, which node, and its sha256 as written (the batch manifest's record). */
export interface WrittenFile {
  readonly path: string;
  readonly type: 'output' | 'temp';
  readonly nodeId: string;
  readonly sha256: string;
  readonly bytes: number;
}

/**
 * The files of one job: a FileAccess whose names derive from the job's id, handed to `Engine.run`
 * for that run only, and the list of what it wrote. Names are stable, so a job re-run after a crash
 * writes the same names and the rename replaces rather than duplicates them.
 */
export interface JobFiles extends FileAccess {
  readonly written: readonly WrittenFile[];
}

/** A short, filesystem-safe tag of a prompt id (ids are client-chosen strings). */
export function promptTag(promptId: string): string {
  return createHash('sha256').update(promptId).digest('hex').slice(0, 10);
}

function safeNodePart(s: string): string {
  return s.replace(/[^A-Za-z0-9-]/g, '-').slice(0, 32) || 'n';
}

function safeJobNodeId(nodeId: string): string {
  return nodeId.replace(/[^A-Za-z0-9_-]/g, '-');
}

/** `%date:...%` tokens are dropped: names must not depend on the day a job happens to (re)run. */
function stableSplit(root: string, prefix: string): { dir: string; subfolder: string; stem: string } {
  const parts = prefix
    .replace(/\\/g, '/')
    .replace(/%date:[^%]*%/g, '')
    .split('/')
    .filter((p) => p !== '' && p !== '.');
  const stem = parts.pop() ?? 'latentflow';
  const subfolder = parts.join('/');
  return { dir: containedPath(root, subfolder), subfolder, stem: stem.replace(/_+$/, '') || 'latentflow' };
}

/** Temp files a killed process left behind: `.<name>.lfjob-<hex>.partial`. */
const PARTIAL = /^\..+\.(?:lfjob|lfbatch)-[0-9a-f]{12}\.partial$|\.[0-9a-f]{12}\.partial$/;

/** Deletes the temp files a killed process left in output/ and temp/; returns their paths. */
export async function removeStalePartials(dirs: Pick<JobDirs, 'output' | 'temp'>): Promise<string[]> {
  const stale: string[] = [];
  for (const root of new Set([dirs.output, dirs.temp])) stale.push(...(await removeMatchingFiles(root, PARTIAL, 8)));
  return stale;
}

type Namer = (req: ReserveRequest, index: number) => { dir: string; subfolder: string; filename: string };

/** Builds a JobFiles from a naming rule; every write is fsync'd before its rename (durable before the job's record commits). */
function jobFiles(dirs: JobDirs, key: (req: ReserveRequest) => string, name: Namer): JobFiles {
  const next = new Map<string, number>();
  const reserved = new Map<string, { type: 'output' | 'temp'; nodeId: string }>();
  const written: WrittenFile[] = [];
  return {
    inputDir: dirs.input,
    outputDir: dirs.output,
    tempDir: dirs.temp,
    written,
    async reserve(req: ReserveRequest): Promise<ReservedFile[]> {
      const k = key(req);
      const first = next.get(k) ?? 0;
      next.set(k, first + req.count);
      const files: ReservedFile[] = [];
      for (let i = 0; i < req.count; i++) {
        const { dir, subfolder, filename } = name(req, first + i);
        await mkdir(dir, { recursive: true });
        const full = path.join(dir, filename);
        reserved.set(full, { type: req.type, nodeId: req.nodeId });
        files.push({ path: full, filename, subfolder, type: req.type });
      }
      return files;
    },
    async writeAtomic(filePath: string, data: Uint8Array): Promise<void> {
      await writeFileDurable(filePath, data, 'lfjob-');
      const r = reserved.get(filePath);
      if (r) written.push({ path: filePath, type: r.type, nodeId: r.nodeId, sha256: createHash('sha256').update(data).digest('hex'), bytes: data.length });
    },
  };
}

/**
 * The server's naming: `{stem}_{tag}-{node}_{index:05}_.{ext}`, tag = `promptTag(promptId)`, with
 * the prefix's subfolders and date tokens as ComfyUI expands them.
 */
export function promptFiles(dirs: JobDirs, promptId: string): JobFiles {
  const tag = promptTag(promptId);
  return jobFiles(
    dirs,
    (req) => `${req.nodeId}\0${req.type}\0${req.prefix}\0${req.extension}`,
    (req, i) => {
      const { subfolder, stem, dir } = splitPrefix(req.type === 'output' ? dirs.output : dirs.temp, req.prefix);
      return { dir, subfolder, filename: `${stem}_${tag}-${safeNodePart(req.nodeId)}_${String(i + 1).padStart(5, '0')}_.${req.extension}` };
    },
  );
}

/**
 * Batch and worker naming: `{prefix}_{jobId}_{node}_{index:02}.{ext}`, so a re-run of a batch job
 * overwrites its own files instead of adding a copy.
 */
export function batchJobFiles(dirs: JobDirs, jobId: string): JobFiles {
  return jobFiles(
    dirs,
    (req) => `${req.type}\0${req.nodeId}`,
    (req, i) => {
      const { dir, subfolder, stem } = stableSplit(req.type === 'output' ? dirs.output : dirs.temp, req.prefix);
      return { dir, subfolder, filename: `${stem}_${jobId}_${safeJobNodeId(req.nodeId)}_${String(i).padStart(2, '0')}.${req.extension}` };
    },
  );
}
