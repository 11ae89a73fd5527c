import path from 'node:path';
import type { ObjectInfoEntry } from '../../engine/index.js';
import { realObjectInfo as registryObjectInfo } from '../fixtures/object-info.js';
import { REPO } from './harness.js';

/** The real registry's `/object_info`, as the server publishes it (toyworld checkpoints listed). */
export function realObjectInfo(): Promise<Record<string, ObjectInfoEntry>> {
  return registryObjectInfo({ modelsDir: path.join(REPO, 'models') });
}
