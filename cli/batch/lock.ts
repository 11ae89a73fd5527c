import path from 'node:path';
import { acquirePidLock } from '../../engine/pid-lock.js';
import { BatchLockedError } from './errors.js';

/**
 * Takes `DIR/.batch.lock` so two batch processes never write one manifest. A lock left by a killed
 * process (its pid no longer running) is taken over. Returns the release function.
 */
export async function lockBatchDir(dir: string): Promise<() => Promise<void>> {
  const file = path.join(dir, '.batch.lock');
  return acquirePidLock(file, {
    held: (pid) => new BatchLockedError(`${dir} is in use by another batch (pid ${pid}); if that is wrong, delete ${file}`),
    failed: () => new BatchLockedError(`could not lock ${dir}`),
    takeOverOwnPid: true,
  });
}
