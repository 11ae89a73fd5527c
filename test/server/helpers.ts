import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const STUB_NODES = path.join(REPO, 'test/server/stub-nodes.ts');
/** Preload (`node --import`) that crashes the server from inside an HTTP request on `GET /__test/crash`. */
export const CRASH_ON_REQUEST = path.join(REPO, 'test/server/fixtures/crash-on-request.mjs');

export interface ServerProcess {
  url: string;
  port: number;
  baseDir: string;
  proc: ChildProcess;
  stderr: () => string;
  stdout: () => string;
  /** Resolves with the exit code or signal when the process ends. */
  exited: Promise<number | string | null>;
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

export function tempBase(tag = 'srv'): string {
  return mkdtempSync(path.join(tmpdir(), `lf-${tag}-`));
}

/** Starts `latentflow serve` as a real child process and waits for its URL line. */
export async function startServerProcess(opts: { baseDir?: string; args?: string[]; port?: number; toyworld?: boolean; nodeArgs?: string[] } = {}): Promise<ServerProcess> {
  const baseDir = opts.baseDir ?? tempBase();
  const toyworld = opts.toyworld ? [] : ['--no-toyworld'];
  const args = [...(opts.nodeArgs ?? []), path.join(REPO, 'bin/latentflow.js'), 'serve', '--port', String(opts.port ?? 0), '--base-dir', baseDir, ...toyworld, '--custom-nodes', STUB_NODES, ...(opts.args ?? [])];
  const proc = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | string | null>((resolve) => proc.on('exit', (code, signal) => resolve(signal ?? code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${err}`)), 30_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /serving on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening:\n${err}`));
    });
  });
  return {
    url,
    port: Number(new URL(url).port),
    baseDir,
    proc,
    stderr: () => err,
    stdout: () => out,
    exited,
    async kill9() {
      proc.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
    },
  };
}

/** Runs `serve` until the process exits by itself (a crashing job), returning the exit signal or code. */
export async function runUntilExit(baseDir: string, timeoutMs = 30_000): Promise<number | string | null> {
  const args = [path.join(REPO, 'bin/latentflow.js'), 'serve', '--port', '0', '--base-dir', baseDir, '--no-toyworld', '--custom-nodes', STUB_NODES];
  const proc = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error('server did not exit'));
    }, timeoutMs);
    proc.on('exit', (code, signal) => {
      clearTimeout(t);
      if (code !== null && code !== 0) process.stderr.write(`serve exited with ${code}:\n${err}\n`);
      resolve(signal ?? code);
    });
  });
}

export interface WsMessage {
  type: string;
  data: Record<string, unknown>;
}

/** A `ws` client that records JSON messages and binary frames in arrival order. */
export class WsRecorder {
  readonly messages: WsMessage[] = [];
  readonly binary: Buffer[] = [];
  readonly order: (string | 'binary')[] = [];
  private waiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(new Uint8Array(data));
      if (isBinary) {
        this.binary.push(buf);
        this.order.push('binary');
      } else {
        const m = JSON.parse(buf.toString('utf8')) as WsMessage;
        this.messages.push(m);
        this.order.push(m.type);
      }
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static open(url: string, clientId: string, headers: Record<string, string> = {}, query = ''): Promise<WsRecorder> {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws?clientId=${encodeURIComponent(clientId)}${query}`, { headers });
    const rec = new WsRecorder(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(rec));
      ws.once('error', reject);
    });
  }

  /** Waits until `pred` holds for some message (checked on every arrival). */
  async waitFor(pred: (m: WsMessage) => boolean, timeoutMs = 20_000): Promise<WsMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.messages.find(pred);
      if (hit) return hit;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; got ${this.order.join(', ')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  done(promptId: string): Promise<WsMessage> {
    return this.waitFor((m) => m.type === 'executing' && m.data.node === null && m.data.prompt_id === promptId);
  }

  close(): void {
    this.ws.close();
  }
}

/** SlowImage -> SaveImage, `value` varied so that submissions do not hit the cache. */
export function slowWorkflow(opts: { steps?: number; delayMs?: number; value?: number; prefix?: string; save?: string } = {}): Record<string, unknown> {
  return {
    '1': { class_type: 'SlowImage', inputs: { steps: opts.steps ?? 3, delay_ms: opts.delayMs ?? 20, value: opts.value ?? Math.random(), size: 8, seed: 1 } },
    '2': { class_type: opts.save ?? 'SaveImage', inputs: { images: ['1', 0], filename_prefix: opts.prefix ?? 'test' } },
  };
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: unknown; text: string }> {
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

export async function getJson<T = Record<string, unknown>>(url: string, headers: Record<string, string> = {}): Promise<T> {
  const res = await fetch(url, { headers });
  if (!res.ok) throw new Error(`GET ${url} -> ${res.status}`);
  return (await res.json()) as T;
}

/** Polls `/api/jobs/{id}` until the job is finished. */
export async function waitJob(url: string, id: string, timeoutMs = 20_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${url}/api/jobs/${encodeURIComponent(id)}`);
    if (res.ok) {
      const j = (await res.json()) as Record<string, unknown>;
      if (j.status !== 'pending' && j.status !== 'running') return j;
    }
    if (Date.now() > deadline) throw new Error(`job ${id} did not finish`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
