import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { CounterNaming, containedPath, removeMatchingFiles, writeFileDurable, type FileAccess, type ReserveRequest, type ReservedFile } from '../../engine/index.js';

/** A file a job wrote to output/: where, and its sha256 as written (the manifest's record). */
export interface WrittenFile {
  readonly path: string;
  readonly type: 'output' | 'temp';
  readonly nodeId: string;
  readonly sha256: string;
  readonly bytes: number;
}

interface JobScope {
  readonly jobId: string;
  /** Next image index per node: a node run several times in one job (list inputs) keeps counting. */
  readonly next: Map<string, number>;
  readonly reserved: Map<string, { type: 'output' | 'temp'; nodeId: string }>;
  readonly written: WrittenFile[];
}

/** The batch FileAccess: names derived from the job id, writes through fsync'd temp files and a rename. */
export interface BatchFileAccess extends FileAccess {
  /** Runs `fn` as job `jobId`: files it reserves are named after the job; returns what it wrote. */
  runAs<T>(jobId: string, fn: () => Promise<T>): Promise<{ value: T; written: WrittenFile[] }>;
  /** Deletes temp files a killed process left behind (`.<name>.lfbatch-<hex>.partial`). */
  removeStalePartials(): Promise<string[]>;
}

const PARTIAL = /^\..+\.lfbatch-[0-9a-f]{12}\.partial$/;

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

function safeId(nodeId: string): string {
  return nodeId.replace(/[^A-Za-z0-9_-]/g, '-');
}

/**
 * A FileAccess for batches: output names are `{prefix}_{jobId}_{node}_{index}.{ext}`, so a re-run
 * of a job overwrites its own files instead of adding a copy. The job is found through
 * AsyncLocalStorage because the engine's `reserve` carries no prompt id; outside a job the
 * ComfyUI counter naming applies.
 */
export function batchFiles(dirs: { input: string; output: string; temp: string }): BatchFileAccess {
  const scope = new AsyncLocalStorage<JobScope>();
  const counter = new CounterNaming(dirs);

  async function reserve(req: ReserveRequest): Promise<ReservedFile[]> {
    const job = scope.getStore();
    if (!job) return counter.reserve(req);
    const root = req.type === 'output' ? dirs.output : dirs.temp;
    const { dir, subfolder, stem } = stableSplit(root, req.prefix);
    await mkdir(dir, { recursive: true });
    const key = `${req.type}\0${req.nodeId}`;
    let i = job.next.get(key) ?? 0;
    const files: ReservedFile[] = [];
    for (let k = 0; k < req.count; k++, i++) {
      const filename = `${stem}_${job.jobId}_${safeId(req.nodeId)}_${String(i).padStart(2, '0')}.${req.extension}`;
      const full = path.join(dir, filename);
      job.reserved.set(full, { type: req.type, nodeId: req.nodeId });
      files.push({ path: full, filename, subfolder, type: req.type });
    }
    job.next.set(key, i);
    return files;
  }

  async function writeAtomic(filePath: string, data: Uint8Array): Promise<void> {
    // The marker lets removeStalePartials tell a killed batch's temp files from anyone else's.
    await writeFileDurable(filePath, data, 'lfbatch-');
    const job = scope.getStore();
    const r = job?.reserved.get(filePath);
    if (job && r) {
      job.written.push({ path: filePath, type: r.type, nodeId: r.nodeId, sha256: createHash('sha256').update(data).digest('hex'), bytes: data.length });
    }
  }

  return {
    inputDir: dirs.input,
    outputDir: dirs.output,
    tempDir: dirs.temp,
    reserve,
    writeAtomic,
    async runAs(jobId, fn) {
      const job: JobScope = { jobId, next: new Map(), reserved: new Map(), written: [] };
      const value = await scope.run(job, fn);
      return { value, written: job.written };
    },
    async removeStalePartials() {
      const stale: string[] = [];
      for (const root of new Set([dirs.output, dirs.temp])) stale.push(...(await removeMatchingFiles(root, PARTIAL, 8)));
      return stale;
    },
  };
}
