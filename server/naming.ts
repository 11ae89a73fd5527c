import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { removeMatchingFiles, splitPrefix, writeAtomic, type FileAccess, type ReserveRequest, type ReservedFile } from '../engine/index.js';

/** No job is running while a node asked to reserve output files. */
export class NoCurrentPromptError extends Error {
  override name = 'NoCurrentPromptError';
}

function safePart(s: string): string {
  return s.replace(/[^A-Za-z0-9-]/g, '-').slice(0, 32) || 'n';
}

/** A short, filesystem-safe tag of a prompt id (ids are client-chosen strings). */
export function promptTag(promptId: string): string {
  return createHash('sha256').update(promptId).digest('hex').slice(0, 10);
}

/**
 * Output naming derived from the prompt id and node id: `{stem}_{tag}-{node}_{index:05}_.{ext}`.
 * A job re-run after a crash therefore writes the same names, and `writeAtomic` (temp file +
 * rename) replaces rather than duplicates them. Each job runs inside `runAs(promptId, ...)`
 * (AsyncLocalStorage, as the engine's `reserve` carries no prompt id), so concurrent jobs name their
 * files apart; `setPrompt` sets the prompt for code outside any `runAs`.
 */
export class PromptFileNaming implements FileAccess {
  readonly inputDir: string;
  readonly outputDir: string;
  readonly tempDir: string;
  private fallback: { promptId: string | undefined; used: Map<string, number> } = { promptId: undefined, used: new Map() };
  /** Per prompt: how many files each (node, folder, prefix) reserved so far (mapped nodes reserve repeatedly). */
  private readonly scope = new AsyncLocalStorage<{ promptId: string | undefined; used: Map<string, number> }>();

  constructor(dirs: { input: string; output: string; temp: string }) {
    this.inputDir = dirs.input;
    this.outputDir = dirs.output;
    this.tempDir = dirs.temp;
  }

  setPrompt(promptId: string | undefined): void {
    this.fallback = { promptId, used: new Map() };
  }

  /** Runs one job's work with its own prompt id and file counters. */
  runAs<T>(promptId: string, fn: () => T): T {
    return this.scope.run({ promptId, used: new Map() }, fn);
  }

  async reserve(req: ReserveRequest): Promise<ReservedFile[]> {
    const { promptId, used } = this.scope.getStore() ?? this.fallback;
    if (promptId === undefined) throw new NoCurrentPromptError('output files can only be reserved while a job runs');
    const root = req.type === 'output' ? this.outputDir : this.tempDir;
    const { subfolder, stem, dir } = splitPrefix(root, req.prefix);
    await mkdir(dir, { recursive: true });
    const key = `${req.nodeId}\0${req.type}\0${req.prefix}\0${req.extension}`;
    const first = used.get(key) ?? 0;
    used.set(key, first + req.count);
    const tag = `${promptTag(promptId)}-${safePart(req.nodeId)}`;
    const files: ReservedFile[] = [];
    for (let i = 0; i < req.count; i++) {
      const filename = `${stem}_${tag}_${String(first + i + 1).padStart(5, '0')}_.${req.extension}`;
      files.push({ path: path.join(dir, filename), filename, subfolder, type: req.type });
    }
    return files;
  }

  writeAtomic(filePath: string, data: Uint8Array): Promise<void> {
    return writeAtomic(filePath, data);
  }
}

const PARTIAL = /\.[0-9a-f]{12}\.partial$/;

/** Removes temp files that a killed process left behind (`writeAtomic`'s `*.partial`). */
export async function removePartialFiles(root: string, depth = 4): Promise<number> {
  return (await removeMatchingFiles(root, PARTIAL, depth)).length;
}
