import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { containedPath, writeFileDurable, type ApiWorkflow, type UiOutput } from '../engine/index.js';
import type { InputFileRef, RemoteFile } from './protocol.js';

/** An input a job names is missing on the worker, or differs from the submitter's copy. */
export class RemoteInputError extends Error {
  override name = 'RemoteInputError';
}

/** A result file that neither came through Redis nor is on the submitter's (shared) output folder. */
export class RemoteOutputError extends Error {
  override name = 'RemoteOutputError';
}

// NOTE: inputs above 8 MiB are not copied through Redis; workers must see them on shared storage.
export const DEFAULT_INLINE_INPUT_MAX_BYTES = 8 * 1024 * 1024;

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** ComfyUI annotates image names with their folder (`a.png [input]`). */
function stripAnnotation(name: string): string {
  return name.replace(/ \[(input|output|temp)\]$/, '');
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

/**
 * The input files a workflow reads: every constant string input that names a file in `inputDir`
 * (LoadImage's `image`, a custom loader's path, ...). Small files are inlined, larger ones are
 * referenced by name and sha256 and must be on the workers' shared input folder.
 */
export async function collectInputs(wf: ApiWorkflow, inputDir: string, inlineMaxBytes = DEFAULT_INLINE_INPUT_MAX_BYTES): Promise<InputFileRef[]> {
  const names = new Set<string>();
  for (const node of Object.values(wf)) {
    for (const v of Object.values(node.inputs)) {
      if (typeof v !== 'string' || v === '' || v.length > 512) continue;
      const name = stripAnnotation(v);
      let full: string;
      try {
        full = containedPath(inputDir, name);
      } catch {
        continue;
      }
      if (full !== path.resolve(inputDir) && (await isFile(full))) names.add(name);
    }
  }
  const out: InputFileRef[] = [];
  for (const name of [...names].sort()) {
    const data = await readFile(containedPath(inputDir, name));
    const ref = { name, sha256: sha256(data), bytes: data.length };
    out.push(data.length <= inlineMaxBytes ? { ...ref, data: data.toString('base64') } : ref);
  }
  return out;
}

async function shaOf(file: string): Promise<string | undefined> {
  try {
    return sha256(await readFile(file));
  } catch {
    return undefined;
  }
}

// NOTE: a folder the submitter's names never use, for inputs whose name is taken by other bytes.
export const REMOTE_INPUT_FOLDER = '_latentflow_remote';

/**
 * Puts a job's inputs in the worker's input folder and returns the workflow to run. An inlined file
 * goes under its own name when that name is free or already holds the same bytes (shared storage);
 * otherwise under `_latentflow_remote/<sha>/<name>`, with the workflow's references rewritten, so
 * concurrent jobs never see each other's files. A referenced file must already be there, bytes equal.
 */
export async function installInputs(wf: ApiWorkflow, inputs: readonly InputFileRef[], inputDir: string): Promise<ApiWorkflow> {
  const renamed = new Map<string, string>();
  for (const inp of inputs) {
    const own = containedPath(inputDir, inp.name);
    const have = await shaOf(own);
    if (have === inp.sha256) continue;
    if (inp.data === undefined) {
      throw new RemoteInputError(
        have === undefined
          ? `input '${inp.name}' (${inp.bytes} bytes) was not inlined and is not in this worker's input folder ${inputDir}; put it on shared storage`
          : `input '${inp.name}' in this worker's input folder differs from the submitter's (sha256 ${have.slice(0, 12)} vs ${inp.sha256.slice(0, 12)})`,
      );
    }
    const data = Buffer.from(inp.data, 'base64');
    if (sha256(data) !== inp.sha256) throw new RemoteInputError(`input '${inp.name}': the inlined bytes do not match their sha256`);
    if (have === undefined) {
      await writeFileDurable(own, data);
      continue;
    }
    const alias = path.posix.join(REMOTE_INPUT_FOLDER, inp.sha256.slice(0, 16), inp.name.replace(/\\/g, '/'));
    const target = containedPath(inputDir, alias);
    if ((await shaOf(target)) !== inp.sha256) await writeFileDurable(target, data);
    renamed.set(inp.name, alias);
  }
  if (!renamed.size) return wf;
  const out: ApiWorkflow = structuredClone(wf);
  for (const node of Object.values(out)) {
    for (const [k, v] of Object.entries(node.inputs)) {
      if (typeof v !== 'string') continue;
      const alias = renamed.get(stripAnnotation(v));
      if (alias !== undefined) node.inputs[k] = alias;
    }
  }
  return out;
}

interface FileEntry {
  node: string;
  type: 'output' | 'temp';
  subfolder: string;
  filename: string;
}

function fileEntries(outputs: Record<string, UiOutput>): FileEntry[] {
  const out: FileEntry[] = [];
  const seen = new Set<string>();
  for (const [node, ui] of Object.entries(outputs)) {
    for (const list of Object.values(ui)) {
      for (const item of list) {
        if (typeof item !== 'object' || item === null || !('filename' in item) || !('type' in item)) continue;
        const { filename, type } = item;
        const subfolder = 'subfolder' in item && typeof item.subfolder === 'string' ? item.subfolder : '';
        if (typeof filename !== 'string' || (type !== 'output' && type !== 'temp')) continue;
        const key = `${type}\0${subfolder}\0${filename}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({ node, type, subfolder, filename });
      }
    }
  }
  return out;
}

/** The files a run's UI outputs name, read back with their sha256; inlined when they total at most `inlineMaxBytes`. */
export async function collectOutputs(outputs: Record<string, UiOutput>, dirs: { output: string; temp: string }, inlineMaxBytes: number): Promise<RemoteFile[]> {
  const read: { e: FileEntry; data: Buffer }[] = [];
  for (const e of fileEntries(outputs)) {
    const root = e.type === 'output' ? dirs.output : dirs.temp;
    read.push({ e, data: await readFile(containedPath(root, path.join(e.subfolder, e.filename))) });
  }
  const total = read.reduce((n, r) => n + r.data.length, 0);
  const inline = total <= inlineMaxBytes;
  return read.map(({ e, data }) => ({ ...e, sha256: sha256(data), bytes: data.length, data: inline ? data.toString('base64') : undefined }));
}

/** A result file placed in the submitter's folders. */
export interface PlacedFile extends RemoteFile {
  readonly path: string;
}

/**
 * Writes a result's files into the submitter's output/temp folders under the worker's names (job-id
 * derived, so a re-run replaces rather than adds). A file already there with the same bytes (shared
 * storage, or an earlier attempt) is left alone; a file that was not inlined must already be there.
 */
export async function placeOutputs(
  files: readonly RemoteFile[],
  dirs: { output: string; temp: string },
  write: (file: string, data: Uint8Array) => Promise<void> = writeFileDurable,
): Promise<PlacedFile[]> {
  const placed: PlacedFile[] = [];
  for (const f of files) {
    const root = f.type === 'output' ? dirs.output : dirs.temp;
    const target = containedPath(root, path.join(f.subfolder, f.filename));
    if ((await shaOf(target)) !== f.sha256) {
      if (f.data === undefined) throw new RemoteOutputError(`${f.type} file ${path.join(f.subfolder, f.filename)} (${f.bytes} bytes) was too large to return through Redis and is not on this machine's ${f.type} folder ${root}; give workers and submitter a shared --output folder`);
      const data = Buffer.from(f.data, 'base64');
      if (sha256(data) !== f.sha256) throw new RemoteOutputError(`${f.filename}: the returned bytes do not match their sha256`);
      await write(target, data);
    }
    placed.push({ ...f, data: undefined, path: target });
  }
  return placed;
}
