import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquirePidLock, pidAlive, type PidLockOptions } from '../../engine/pid-lock.js';

class HeldError extends Error {
  override name = 'HeldError';
}

const root = mkdtempSync(path.join(tmpdir(), 'lf-pidlock-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const opts: PidLockOptions = { held: (pid) => new HeldError(`held by ${pid}`), failed: () => new HeldError('failed') };

/** The pid of a process that has already exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('acquirePidLock', () => {
  it('creates the folder and a lock holding our pid, removed on release', async () => {
    const file = path.join(root, 'a', 'deep', '.lock');
    const release = await acquirePidLock(file, opts);
    expect(readFileSync(file, 'utf8')).toBe(String(process.pid));
    await release();
    expect(existsSync(file)).toBe(false);
  });

  it('refuses a lock held by another running process, naming its pid', async () => {
    const file = path.join(root, 'held.lock');
    writeFileSync(file, String(process.ppid));
    await expect(acquirePidLock(file, opts)).rejects.toThrow(`held by ${process.ppid}`);
    expect(readFileSync(file, 'utf8')).toBe(String(process.ppid));
  });

  it('takes over a lock whose process is gone, and one with garbage in it', async () => {
    const pid = deadPid();
    expect(pidAlive(pid)).toBe(false);
    for (const content of [String(pid), 'not a pid', '']) {
      const file = path.join(root, `stale-${content.length}.lock`);
      writeFileSync(file, content);
      const release = await acquirePidLock(file, opts);
      expect(readFileSync(file, 'utf8')).toBe(String(process.pid));
      await release();
    }
  });

  it('counts a lock naming this process as held, unless takeOverOwnPid', async () => {
    const file = path.join(root, 'own.lock');
    const release = await acquirePidLock(file, opts);
    await expect(acquirePidLock(file, opts)).rejects.toThrow(HeldError);
    const again = await acquirePidLock(file, { ...opts, takeOverOwnPid: true });
    expect(readFileSync(file, 'utf8')).toBe(String(process.pid));
    await again();
    await release();
  });
});
