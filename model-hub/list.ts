/** `models list`: installed models with kind, detected flavour and size, read from file headers (no sessions). */
import { existsSync, readFileSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { inspectModelFile } from '../runtime/model-file.js';
import { scanFolder, installedFolders } from './components.js';
import type { ComponentRole, Signature } from './drivability.js';
import { describeFlavour } from './flavour.js';
import { SOURCE_FILE, type ModelKind } from './kinds.js';

export interface InstalledModel {
  readonly kind: ModelKind;
  readonly name: string;
  readonly dir: string;
  /** Bytes on disk (every file in the folder). */
  readonly bytes: number;
  /** e.g. "diffusers-onnx fp32 (int32 ids, float timestep [B])"; undefined when unreadable. */
  readonly flavour?: string;
  /** Why the folder is not a usable model (missing parts, unreadable ONNX). */
  readonly problems: readonly string[];
  /** "owner/name@revision" for pulled models. */
  readonly source?: string;
}

export async function folderBytes(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) n += await folderBytes(p);
    else if (e.isFile()) n += (await stat(p)).size;
  }
  return n;
}

function sourceOf(dir: string): string | undefined {
  const f = path.join(dir, SOURCE_FILE);
  if (!existsSync(f)) return undefined;
  try {
    const v: unknown = JSON.parse(readFileSync(f, 'utf8'));
    if (typeof v !== 'object' || v === null || !('repo' in v) || typeof v.repo !== 'string') return undefined;
    const rev = 'revision' in v && typeof v.revision === 'string' ? v.revision : 'main';
    return `${v.repo}@${rev}`;
  } catch {
    return undefined;
  }
}

export async function listInstalledModels(modelsDir: string): Promise<InstalledModel[]> {
  const out: InstalledModel[] = [];
  for (const ref of installedFolders(modelsDir)) {
    const scan = scanFolder(ref.kind, ref.dir);
    const problems = [...scan.problems];
    const sigs = new Map<ComponentRole, Signature>();
    for (const c of scan.components) {
      try {
        sigs.set(c.role, inspectModelFile(c.file));
      } catch (e) {
        problems.push(`${path.relative(ref.dir, c.file)}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    out.push({
      ...ref,
      bytes: await folderBytes(ref.dir),
      flavour: sigs.size > 0 ? describeFlavour(ref.kind, sigs, ref.dir) : undefined,
      problems,
      source: sourceOf(ref.dir),
    });
  }
  return out;
}
