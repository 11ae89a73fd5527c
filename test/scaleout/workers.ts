import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const REPO = path.resolve(import.meta.dirname, '../..');
export const BIN = path.join(REPO, 'bin/latentflow.js');
export const STUB_NODES = path.join(REPO, 'test/server/stub-nodes.ts');

export interface WorkerProcess {
  readonly proc: ChildProcess;
  readonly id: string;
  readonly baseDir: string;
  output(): string;
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts `latentflow worker` as a real child process and waits until it takes jobs. */
export async function startWorkerProcess(url: string, baseDir: string, extra: string[] = []): Promise<WorkerProcess> {
  const args = [BIN, 'worker', '--redis', url, '--base-dir', baseDir, '--custom-nodes', STUB_NODES, '--lock-duration', '2000', '--stalled-interval', '1000', ...extra];
  const proc = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const id = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`worker did not start:\n${out}`)), 30_000);
    proc.stdout!.on('data', () => {
      const m = /latentflow worker (\S+): ready/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(m[1]!);
      }
    });
    void exited.then(() => {
      clearTimeout(t);
      reject(new Error(`worker exited before it was ready:\n${out}`));
    });
  });
  const alive = () => proc.exitCode === null && proc.signalCode === null;
  return {
    proc,
    id,
    baseDir,
    output: () => out,
    async kill9() {
      if (alive()) proc.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (alive()) {
        proc.kill('SIGTERM');
        // A second signal stops a job still running.
        setTimeout(() => alive() && proc.kill('SIGTERM'), 3000).unref();
      }
      await exited;
    },
  };
}
