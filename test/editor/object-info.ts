import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ObjectInfoEntry } from '../../engine/index.js';
import { createHost } from '../../nodes/host.js';
import { REPO } from './harness.js';

/** The real registry's `/object_info`, as the server publishes it (toyworld checkpoints listed). */
export async function realObjectInfo(): Promise<Record<string, ObjectInfoEntry>> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'lf-editor-info-'));
  try {
    const host = await createHost({ baseDir: tmp, modelsDir: path.join(REPO, 'models') });
    const info = host.engine.objectInfo();
    await host.close();
    return info;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
