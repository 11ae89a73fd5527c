/**
 * Durability of the job store's commits without blocking the event loop. The store commits with
 * `synchronous = NORMAL` (in WAL mode a commit is then a write() to the -wal file, no fsync), and
 * whoever must not acknowledge before the commit survives power loss awaits `sync()`, which runs
 * fdatasync on the -wal file in libuv's thread pool. fsync flushes the file's inode whichever
 * descriptor wrote it, so this gives what `synchronous = FULL` gives for each acknowledged commit
 * (SQLite wal.c syncs the same file at commit under FULL), while the 3-15 ms of an fsync no longer
 * stall status routes (#22 item 8). Concurrent callers share one fdatasync that started after their
 * commit.
 */
import { open, type FileHandle } from 'node:fs/promises';

export class WalSync {
  private handle: Promise<FileHandle> | undefined;
  /** The sync in flight and the one queued behind it (for commits made while the first runs). */
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;

  constructor(private readonly walPath: string) {}

  /** Resolves once every commit made before the call is on disk. */
  sync(): Promise<void> {
    if (!this.running) return this.start();
    // The running fdatasync may have started before our commit: wait for the next one.
    this.queued ??= this.running.then(
      () => this.start(),
      () => this.start(),
    );
    return this.queued;
  }

  private start(): Promise<void> {
    this.queued = undefined;
    const p = this.fdatasync().finally(() => {
      if (this.running === p) this.running = undefined;
    });
    this.running = p;
    return p;
  }

  private async fdatasync(): Promise<void> {
    this.handle ??= open(this.walPath, 'r');
    try {
      await (await this.handle).datasync();
    } catch (e) {
      // SQLite recreates the -wal file when it restarts the log after a checkpoint; open it again.
      this.handle = undefined;
      throw e;
    }
  }

  async close(): Promise<void> {
    const h = this.handle;
    this.handle = undefined;
    await (await h?.catch(() => undefined))?.close();
  }
}
