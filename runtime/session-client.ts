/**
 * Main-thread side of inference: sessions live in worker threads and are reached through
 * `ModelSession` proxies. A crashed worker rejects its pending calls and is replaced; its sessions
 * reload on their next run.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  InferenceAbortedError, InferenceError, RuntimeConfigError, SessionClosedError, WorkerCrashedError, fromWireError,
} from './errors.js';
import type { FeedMap, IoMeta, TensorMap } from './io-meta.js';
import { narrowTensor } from './io-meta.js';
import type { SessionOptions } from './onnx-session-options.js';
import { CPU, type Device, type DeviceCapabilities } from './devices.js';
import type { ResidentHost } from './resident.js';
import { ResidentTensor } from './resident.js';
import type { SessionFeeds, TransferChoice } from './send-feeds.js';
import { packFeeds } from './send-feeds.js';
import type { DType, Tensor } from './tensor.js';
import type { FromWorker, OutputGroups, ToWorker } from './wire.js';
import type { WeightPatch } from './weight-patch.js';
import { packTensors, unpackTensors } from './wire.js';

export interface RunOptions {
  /** Alias groups, one per wanted output (e.g. [['out_sample', 'latent']]); keys are each group's first name. */
  outputs?: OutputGroups;
  /** Rejects the call when fired; a run already inside onnxruntime finishes in the worker, unseen. */
  signal?: AbortSignal;
  /**
   * Hand the feeds' buffers to the worker instead of copying them (the caller's arrays become unusable);
   * a list names the feeds whose buffers may be handed over. Resident tensors are never handed over.
   */
  transferInputs?: TransferChoice;
}

/** A session proxy on the main thread. */
export interface ModelSession {
  readonly path: string;
  readonly inputs: readonly IoMeta[];
  readonly outputs: readonly IoMeta[];
  /** Memory estimate: model file plus external data. */
  readonly bytes: number;
  /** Runs started and not yet answered by the worker. */
  readonly inFlight: number;
  run(feeds: FeedMap, opts?: RunOptions): Promise<TensorMap>;
  /**
   * Copies a tensor into the worker hosting this session: as a feed of a session in that worker (or as a
   * part of a RowStack) only its handle travels. Release it when done.
   */
  keep<D extends DType>(tensor: Tensor<D>): Promise<ResidentTensor<D>>;
}

/** A session whose feeds may also be row stacks (RowStack: rows assembled inside the worker). */
export interface StackingSession extends ModelSession {
  run(feeds: SessionFeeds, opts?: RunOptions): Promise<TensorMap>;
}

export interface SessionClientOptions {
  /** Worker threads hosting sessions (default 1: with one intra-op thread it leaves a core to the main thread). */
  workers?: number;
  session?: SessionOptions;
  /** Called after a session is loaded or reloaded into a worker. */
  onLoaded?: (s: RemoteSession) => void;
  /** Called when a session has no run in flight any more. */
  onIdle?: (s: RemoteSession) => void;
  /** Called when a run fails inside onnxruntime or its worker dies (before the caller sees the error). */
  onRunFailed?: (s: RemoteSession, e: Error) => void;
}

/** Orders uses across sessions without ties (for least-recently-used eviction). */
let useClock = 0;

export const DEFAULT_WORKERS = 1;

// From TypeScript sources (vitest, tsx) the worker entry is a .ts file; from dist/ it is .js.
const FROM_SOURCE = import.meta.url.endsWith('.ts');

/**
 * NOTE: on Node 20 `execArgv: ['--import', 'tsx']` does not reach a worker's entry module ("Unknown file
 * extension .ts"), so a source-tree worker boots through a tiny eval script that registers tsx's ESM
 * loader in the worker first and then imports the entry.
 */
/** URL of tsx's ESM register API (its `import` export; the CommonJS build cannot be imported from ESM). */
function tsxEsmApiUrl(): string {
  const pkgJson = createRequire(import.meta.url).resolve('tsx/package.json');
  const pkg: unknown = JSON.parse(readFileSync(pkgJson, 'utf8'));
  const rel = importTarget(pkg);
  return pathToFileURL(path.join(path.dirname(pkgJson), rel)).href;
}

function importTarget(pkg: unknown): string {
  const walk = (v: unknown, keys: string[]): unknown =>
    keys.reduce<unknown>((o, k) => (typeof o === 'object' && o !== null ? Reflect.get(o, k) : undefined), v);
  const target = walk(pkg, ['exports', './esm/api', 'import', 'default']);
  if (typeof target !== 'string') throw new RuntimeConfigError('tsx is installed without an ESM register API (tsx >= 4 needed)');
  return target;
}

function spawnWorker(): Worker {
  if (!FROM_SOURCE) return new Worker(new URL('./inference-worker.js', import.meta.url));
  const entry = new URL('./inference-worker.ts', import.meta.url).href;
  const tsxApi = tsxEsmApiUrl();
  const boot = `import(${JSON.stringify(tsxApi)}).then((t) => { t.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(boot, { eval: true });
}

type Request = ToWorker extends infer M ? (M extends { id: number } ? Omit<M, 'id'> : never) : never;

interface Pending {
  resolve(m: FromWorker): void;
  reject(e: Error): void;
}

/** One worker thread and the calls waiting on it. */
class WorkerSlot implements ResidentHost {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private lastError: Error | undefined;
  /** Bumped whenever the worker dies: sessions loaded under an older generation are gone. */
  generation = 0;
  bytes = 0;
  closed = false;

  constructor(readonly index: number) {}

  get threadId(): number | undefined {
    return this.worker?.threadId;
  }

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const w = spawnWorker();
    w.on('message', (m: FromWorker) => this.settle(m));
    w.on('error', (e) => {
      this.lastError = e;
    });
    w.on('exit', (code) => this.onExit(w, code));
    w.unref();
    this.worker = w;
    return w;
  }

  private settle(m: FromWorker): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (this.pending.size === 0) this.worker?.unref();
    if (m.type === 'error') p.reject(fromWireError(m.error));
    else p.resolve(m);
  }

  private onExit(w: Worker, code: number): void {
    if (this.worker !== w) return;
    this.worker = undefined;
    this.generation++;
    this.bytes = 0;
    const why = this.lastError ? `${this.lastError.name}: ${this.lastError.message}` : `exit code ${code}`;
    this.lastError = undefined;
    const err = this.closed
      ? new SessionClosedError('the inference workers were closed')
      : new WorkerCrashedError(`inference worker ${this.index} (thread ${w.threadId}) died (${why}); its sessions reload on next use`);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    // The replacement starts on the next call, not here: a worker that cannot boot must not respawn in a loop.
  }

  call(req: Request, transfer: ArrayBuffer[] = []): Promise<FromWorker> {
    if (this.closed) return Promise.reject(new SessionClosedError('the inference workers were closed'));
    const w = this.ensure();
    const id = this.nextId++;
    const msg: ToWorker = { ...req, id };
    return new Promise<FromWorker>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      w.ref();
      w.postMessage(msg, transfer);
    });
  }

  async drop(handles: number[]): Promise<void> {
    if (this.closed || !this.worker) return;
    const m = await this.call({ type: 'drop', handles }).catch((e: unknown) => {
      if (e instanceof WorkerCrashedError || e instanceof SessionClosedError) return undefined;
      throw e;
    });
    if (m && m.type !== 'dropped') throw unexpected(m, 'drop');
  }

  faultDrill(): void {
    this.worker?.postMessage({ type: 'crash' } satisfies ToWorker);
  }

  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    if (w) await w.terminate();
  }
}

function unexpected(m: FromWorker, want: string): InferenceError {
  return new InferenceError(`inference worker answered '${m.type}' to a '${want}' request`);
}

/** A session proxy; reloads itself in a live worker if its worker died or it was released. */
export class RemoteSession implements StackingSession {
  inFlight = 0;
  lastUsed = 0;
  private slot: WorkerSlot | undefined;
  private sessionId = 0;
  private generation = -1;
  private reloading: Promise<void> | undefined;
  private loadedWith: SessionOptions | undefined;

  constructor(
    private readonly client: SessionClient,
    readonly path: string,
    readonly inputs: readonly IoMeta[],
    readonly outputs: readonly IoMeta[],
    readonly bytes: number,
    /** Options this session was created with (reused when it reloads; `retarget` changes them). */
    private sessionOptions: SessionOptions,
    /** Weights patched into this session (reapplied when it reloads). */
    readonly patch?: WeightPatch,
  ) {}

  get options(): SessionOptions {
    return this.sessionOptions;
  }

  /** The device this session runs on (or will run on when it reloads). */
  get device(): Device {
    return this.sessionOptions.device ?? CPU;
  }

  /**
   * Moves the session to other options (another device): it is released when idle and reloads with them
   * on its next run, so holders of this proxy (cached loader outputs) follow without knowing.
   */
  retarget(options: SessionOptions): void {
    this.sessionOptions = options;
    if (this.inFlight === 0) void this.release().catch(() => undefined);
  }

  /** @internal True when the loaded copy was made with options the session no longer has. */
  get stale(): boolean {
    return this.loaded && this.loadedWith !== this.sessionOptions;
  }

  /** @internal Records where the session lives. */
  attach(slot: WorkerSlot, sessionId: number, options: SessionOptions): void {
    this.loadedWith = options;
    this.slot = slot;
    this.sessionId = sessionId;
    this.generation = slot.generation;
  }

  get loaded(): boolean {
    return this.slot !== undefined && this.slot.generation === this.generation;
  }

  private async live(): Promise<{ slot: WorkerSlot; sessionId: number }> {
    while (!this.loaded || !this.slot) {
      this.reloading ??= this.client.reload(this).finally(() => {
        this.reloading = undefined;
      });
      await this.reloading;
    }
    return { slot: this.slot, sessionId: this.sessionId };
  }

  run(feeds: SessionFeeds, opts: RunOptions = {}): Promise<TensorMap> {
    const { signal } = opts;
    if (signal?.aborted) return Promise.reject(new InferenceAbortedError(`run of ${this.path} aborted before it started`));
    let packed: ReturnType<typeof packFeeds>;
    try {
      packed = packFeeds(feeds, opts.transferInputs);
    } catch (e) {
      return Promise.reject(e);
    }
    this.inFlight++;
    this.lastUsed = ++useClock;
    const work = (async () => {
      try {
        const { slot, sessionId } = await this.live();
        const { feeds: wire, rows, transfer } = packed.finish(slot);
        const m = await slot.call({ type: 'run', sessionId, feeds: wire, rows, outputs: opts.outputs }, transfer);
        if (m.type !== 'result') throw unexpected(m, 'run');
        return unpackTensors(m.tensors);
      } catch (e) {
        if (e instanceof InferenceError || e instanceof WorkerCrashedError) this.client.runFailed(this, e);
        throw e;
      } finally {
        this.inFlight--;
        this.lastUsed = ++useClock;
        if (this.inFlight === 0) this.client.idle(this);
      }
    })();
    if (!signal) return work;
    work.catch(() => undefined);
    return new Promise<TensorMap>((resolve, reject) => {
      const onAbort = (): void => reject(new InferenceAbortedError(`run of ${this.path} aborted`));
      signal.addEventListener('abort', onAbort, { once: true });
      work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  async keep<D extends DType>(tensor: Tensor<D>): Promise<ResidentTensor<D>> {
    const { wire, transfer } = packTensors({ t: narrowTensor(tensor) }, true);
    const { slot } = await this.live();
    const generation = slot.generation;
    const m = await slot.call({ type: 'keep', tensor: wire.t }, transfer);
    if (m.type !== 'kept') throw unexpected(m, 'keep');
    return new ResidentTensor(tensor, slot, generation, m.handle);
  }

  /** Marks the session as used now (least-recently-used order). */
  touch(): void {
    this.lastUsed = ++useClock;
  }

  /** Makes sure the session is loaded in a live worker (reloading it if needed). */
  async load(): Promise<void> {
    await this.live();
  }

  /** Unloads the session from its worker; the proxy stays usable and reloads on the next run. */
  async release(): Promise<void> {
    const slot = this.slot;
    if (!slot || !this.loaded) return;
    this.slot = undefined;
    slot.bytes -= this.bytes;
    const m = await slot.call({ type: 'release', sessionId: this.sessionId }).catch((e: unknown) => {
      if (e instanceof WorkerCrashedError || e instanceof SessionClosedError) return undefined;
      throw e;
    });
    if (m && m.type !== 'released') throw unexpected(m, 'release');
  }

  /** @internal The slot hosting this session, if loaded. */
  host(): WorkerSlot | undefined {
    return this.loaded ? this.slot : undefined;
  }
}

/** Starts inference workers on demand and loads sessions into the least-loaded one. */
export class SessionClient {
  private readonly slots: WorkerSlot[];
  private readonly sessionOptions: SessionOptions;
  private readonly hooks: Pick<SessionClientOptions, 'onLoaded' | 'onIdle' | 'onRunFailed'>;
  private closed = false;

  constructor(opts: SessionClientOptions = {}) {
    this.hooks = { onLoaded: opts.onLoaded, onIdle: opts.onIdle, onRunFailed: opts.onRunFailed };
    const n = opts.workers ?? DEFAULT_WORKERS;
    if (!Number.isInteger(n) || n < 1) throw new RuntimeConfigError(`workers must be a positive integer, got ${n}`);
    this.slots = Array.from({ length: n }, (_, i) => new WorkerSlot(i));
    this.sessionOptions = opts.session ?? {};
  }

  private pickSlot(): WorkerSlot {
    return this.slots.reduce((best, s) => (s.bytes < best.bytes ? s : best));
  }

  private async loadInto(path: string, options: SessionOptions, patch?: WeightPatch): Promise<{ slot: WorkerSlot; m: Extract<FromWorker, { type: 'loaded' }> }> {
    if (this.closed) throw new SessionClosedError(`cannot load ${path}: the inference workers were closed`);
    const slot = this.pickSlot();
    const m = await slot.call({ type: 'load', path, options, patch });
    if (m.type !== 'loaded') throw unexpected(m, 'load');
    slot.bytes += m.bytes;
    return { slot, m };
  }

  /**
   * Loads a model in a worker and returns its proxy; `options` override the client's session options,
   * `patch` changes weights before the session is created (the worker reads and merges them).
   */
  async load(path: string, options: SessionOptions = {}, patch?: WeightPatch): Promise<RemoteSession> {
    const merged = { ...this.sessionOptions, ...options };
    const { slot, m } = await this.loadInto(path, merged, patch);
    const s = new RemoteSession(this, path, m.inputs, m.outputs, m.bytes, merged, patch);
    s.attach(slot, m.sessionId, merged);
    s.touch();
    this.hooks.onLoaded?.(s);
    return s;
  }

  /** @internal Loads the session again after its worker died or it was released. */
  async reload(s: RemoteSession): Promise<void> {
    const options = s.options;
    const { slot, m } = await this.loadInto(s.path, options, s.patch);
    s.attach(slot, m.sessionId, options);
    this.hooks.onLoaded?.(s);
  }

  /** @internal */
  idle(s: RemoteSession): void {
    if (s.stale) void s.release().catch(() => undefined);
    this.hooks.onIdle?.(s);
  }

  /** @internal */
  runFailed(s: RemoteSession, e: Error): void {
    this.hooks.onRunFailed?.(s, e);
  }

  /** Checks in a worker that `device` can run a model; throws DeviceUnavailableError saying why and how to get it. */
  async probe(device: Device): Promise<DeviceCapabilities> {
    if (this.closed) throw new SessionClosedError('cannot probe a device: the inference workers were closed');
    const m = await this.pickSlot().call({ type: 'probe', device });
    if (m.type !== 'probed') throw unexpected(m, 'probe');
    return m.capabilities;
  }

  /** Fault drill: makes the worker hosting `s` die of an uncaught error. */
  faultDrill(s: RemoteSession): void {
    s.host()?.faultDrill();
  }

  /** Thread ids of the running workers (for diagnostics). */
  threadIds(): number[] {
    return this.slots.map((s) => s.threadId).filter((t): t is number => t !== undefined);
  }

  /** Terminates every worker; pending calls reject with SessionClosedError. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.close()));
  }
}
