import { open, readFile, rm, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { BatchLockedError } from './errors.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return e instanceof Error && 'code' in e && e.code === 'EPERM';
  }
}

/**
 * Takes `DIR/.batch.lock` so two batch processes never write one manifest. A lock left by a killed
 * process (its pid no longer running) is taken over. Returns the release function.
 */
export async function lockBatchDir(dir: string): Promise<() => Promise<void>> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, '.batch.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(file, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      return () => rm(file, { force: true });
    } catch (e) {
      if (!(e instanceof Error && 'code' in e && e.code === 'EEXIST')) throw e;
      const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new BatchLockedError(`${dir} is in use by another batch (pid ${pid}); if that is wrong, delete ${file}`);
      }
      await rm(file, { force: true });
    }
  }
  throw new BatchLockedError(`could not lock ${dir}`);
}
