/**
 * Who was at work when the process died: the poison rule's evidence (docs/server.md, "Poison rule").
 *
 * Work is tagged with an AsyncLocalStorage context: the HTTP/WebSocket server is started inside a
 * `server` context, so every request, upload parser and socket callback inherits it; each job runs in a
 * `job` context naming it, which its nodes, timers and promises inherit. An uncaught exception (or
 * unhandled rejection) that is about to end the process is written to the store with the context it
 * was thrown in, so the next start can tell a crash in a job's own work from one that is not the job.
 * Only attribution uses async context: nothing else depends on it surviving every await.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** Where a fatal error was thrown: server work, a job's work, or nowhere we tagged. */
export type CrashCause = { kind: 'server' } | { kind: 'job'; jobId: string } | { kind: 'unattributed' };

/** A fatal error as the store keeps it until the next start reads it. */
export interface FatalRecord {
  cause: CrashCause;
  message: string;
  at: number;
}

const work = new AsyncLocalStorage<CrashCause>();

/** Runs `fn` (and everything it schedules) as server work: HTTP handlers, uploads, WebSocket clients. */
export function asServerWork<T>(fn: () => T): T {
  return work.run({ kind: 'server' }, fn);
}

/** Runs `fn` (and everything it schedules) as the work of job `jobId`. */
export function asJobWork<T>(jobId: string, fn: () => T): T {
  return work.run({ kind: 'job', jobId }, fn);
}

/** The context of the code running now. */
export function currentCause(): CrashCause {
  return work.getStore() ?? { kind: 'unattributed' };
}

/**
 * Records every fatal error of this process through `record` (synchronously: the process ends right
 * after). Uses `uncaughtExceptionMonitor`, so Node's own handling (print, exit 1) is unchanged; an
 * error is recorded only when nothing else handles it, i.e. when the process is really going to die.
 * Returns the uninstaller.
 */
export function recordFatalErrors(record: (fatal: FatalRecord) => void): () => void {
  const monitor = (err: unknown) => {
    if (process.listenerCount('uncaughtException') > 0) return;
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    try {
      record({ cause: currentCause(), message: message.slice(0, 2000), at: Date.now() });
    } catch {
      // A store that is already closed cannot take it; the next start then treats the crash as unknown.
    }
  };
  process.on('uncaughtExceptionMonitor', monitor);
  return () => process.off('uncaughtExceptionMonitor', monitor);
}

/**
 * The poison rule: whether the crash counts an attempt against `jobId`, one of the jobs that were
 * running when the process died. An unknown cause (no record: kill -9, the OOM killer, power loss) or
 * an unattributed error counts against every running job; a crash in a job's own work counts against
 * that job only (against all of them when that job was not among the running ones, e.g. work of a
 * finished job's model session); a crash in server work counts against none.
 */
export function countsAgainst(fatal: FatalRecord | undefined, jobId: string, runningIds: readonly string[]): boolean {
  if (!fatal) return true;
  const c = fatal.cause;
  if (c.kind === 'server') return false;
  if (c.kind === 'unattributed') return true;
  return c.jobId === jobId || !runningIds.includes(c.jobId);
}
