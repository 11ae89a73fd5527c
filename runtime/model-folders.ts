/** Where model files sit in the folders users download (diffusers / optimum ONNX layouts). */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** The model file of a component folder: model.onnx, else the only .onnx file in it. */
export function componentModel(dir: string): string | undefined {
  const main = path.join(dir, 'model.onnx');
  if (existsSync(main)) return main;
  if (!existsSync(dir)) return undefined;
  const onnx = readdirSync(dir).filter((f) => f.endsWith('.onnx'));
  return onnx.length === 1 ? path.join(dir, onnx[0]) : undefined;
}

/** Subfolders of `root` that hold `marker` (a pipeline's unet/, a classifier's model.onnx), sorted. */
export function listPipelineFolders(root: string, marker: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((n) => !n.startsWith('.') && existsSync(path.join(root, n, marker)))
    .sort();
}

/** Files under `dir` (recursively) whose names end in one of `exts`, as sorted '/'-separated relative names. */
export function listFilesWithExtensions(dir: string, exts: readonly string[], prefix = ''): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listFilesWithExtensions(path.join(dir, e.name), exts, rel));
    else if (exts.some((x) => e.name.toLowerCase().endsWith(x))) out.push(rel);
  }
  return out.sort();
}
