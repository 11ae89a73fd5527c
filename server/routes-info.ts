import { readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Folders } from '../runtime/services.js';
import { CPU, deviceStats, type ActiveDevice } from '../runtime/devices.js';
import { HttpError } from './http-util.js';

const VERSION = '0.1.0';

/** GET /system_stats in ComfyUI's shape; `devices` is the execution device sessions load on (runtime/devices.ts). */
export function systemStats(device: ActiveDevice = { device: CPU, requested: CPU, skipped: [] }): Record<string, unknown> {
  const total = os.totalmem();
  const free = os.freemem();
  return {
    system: {
      os: process.platform === 'win32' ? 'nt' : 'posix',
      ram_total: total,
      ram_free: free,
      comfyui_version: VERSION,
      latentflow_version: VERSION,
      python_version: `node ${process.versions.node}`,
      pytorch_version: 'onnxruntime-node',
      embedded_python: false,
      argv: process.argv.slice(1),
    },
    devices: deviceStats(device, { total, free }),
  };
}

/** Folder names under models/ (ComfyUI's /models). */
export async function modelFolders(folders: Folders): Promise<string[]> {
  const entries = await readdir(folders.models, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
}

/** Entries of models/{folder}: model files and directory-form models, by relative name. */
export async function modelsIn(folders: Folders, folder: string): Promise<string[]> {
  if (!(await modelFolders(folders)).includes(folder)) throw new HttpError(404, `unknown model folder '${folder}'`);
  const entries = await readdir(path.join(folders.models, folder), { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => !e.name.startsWith('.') && (e.isFile() || e.isDirectory())).map((e) => e.name).sort();
}

/** Embedding names (file stems under models/embeddings), as ComfyUI lists them. */
export async function embeddings(folders: Folders): Promise<string[]> {
  const entries = await readdir(path.join(folders.models, 'embeddings'), { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile() && !e.name.startsWith('.')).map((e) => path.parse(e.name).name).sort();
}
