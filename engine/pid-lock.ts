import { mkdir, open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';

/** True when a process with this pid exists. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return e instanceof Error && 'code' in e && e.code === 'EPERM';
  }
}

export interface PidLockOptions {
  /** The error thrown when a running process (`pid`) holds the lock. */
  held(pid: number): Error;
  /** The error thrown when the lock cannot be taken even after removing a stale one. */
  failed(): Error;
  /**
   * A lock naming this very process counts as stale: after a crash a new process can be given the
   * dead one's pid (containers restart with the same pids), and it must not lock itself out.
   */
  takeOverOwnPid?: boolean;
}

/**
 * Creates `file` exclusively holding our pid, so two processes never own one folder. A lock left
 * by a process that no longer runs is taken over. Returns the release function.
 */
export async function acquirePidLock(file: string, opts: PidLockOptions): Promise<() => Promise<void>> {
  await mkdir(path.dirname(file), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(file, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      return () => rm(file, { force: true });
    } catch (e) {
      if (!(e instanceof Error && 'code' in e && e.code === 'EEXIST')) throw e;
      const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      const own = pid === process.pid && opts.takeOverOwnPid === true;
      if (Number.isInteger(pid) && pid > 0 && !own && pidAlive(pid)) throw opts.held(pid);
      await rm(file, { force: true });
    }
  }
  throw opts.failed();
}
