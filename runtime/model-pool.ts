/**
 * Sessions shared between jobs: each model loads once (concurrent callers share one promise) and
 * least-recently-used sessions are unloaded when the memory budget is exceeded, never one that has a
 * run in flight. An unloaded session's proxy stays valid and reloads on its next use.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { RuntimeConfigError, SessionClosedError } from './errors.js';
import { CPU, DeviceDtypeError, formatDevice, type ActiveDevice, type Device, type DeviceCapabilities } from './devices.js';
import type { SessionOptions } from './onnx-session-options.js';
import type { WeightPatch } from './weight-patch.js';
import { isEmptyPatch } from './weight-patch.js';
import type { ModelSession } from './session-client.js';
import { RemoteSession, SessionClient } from './session-client.js';

/** NOTE: 8 GiB leaves room for activations and the OS on a 24 GiB machine running SD 1.x/2.x in fp32. */
export const DEFAULT_MEMORY_BUDGET_BYTES = 8 * 1024 ** 3;

export interface ModelPoolOptions {
  /** Estimated bytes (model files plus external data) the loaded sessions may occupy together. */
  memoryBudgetBytes?: number;
  /** Worker threads hosting sessions. */
  workers?: number;
  session?: SessionOptions;
  /** Told when `auto` moves sessions off a failed device. */
  log?: (message: string) => void;
}

export interface PooledSessionStats {
  path: string;
  /** `cpu`, `webgpu`, `cuda:1`, ... */
  device: string;
  bytes: number;
  loaded: boolean;
  inFlight: number;
}

export interface ModelPoolStats {
  budgetBytes: number;
  /** Sum of the estimates of the sessions currently loaded. */
  residentBytes: number;
  /** Sessions in least- to most-recently-used order. */
  sessions: PooledSessionStats[];
  loads: number;
  evictions: number;
}

interface Entry {
  promise: Promise<RemoteSession>;
  session?: RemoteSession;
}

/** JSON with object keys sorted, so equal options give equal cache keys. */
function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const keys = Object.keys(v).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson(Reflect.get(v, k))}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

export class ModelPool {
  readonly budgetBytes: number;
  private readonly client: SessionClient;
  private readonly entries = new Map<string, Entry>();
  private loads = 0;
  private evictions = 0;
  private closed = false;
  private active: ActiveDevice = { device: CPU, requested: CPU, skipped: [] };
  private readonly log: (message: string) => void;

  constructor(opts: ModelPoolOptions = {}) {
    const budget = opts.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET_BYTES;
    if (!Number.isFinite(budget) || budget <= 0) throw new RuntimeConfigError(`memory budget must be a positive number of bytes, got ${budget}`);
    this.budgetBytes = budget;
    this.log = opts.log ?? (() => undefined);
    this.client = new SessionClient({
      workers: opts.workers,
      session: opts.session,
      onLoaded: (s) => {
        this.loads++;
        this.enforce(this.budgetBytes, s);
      },
      onIdle: (s) => this.enforce(this.budgetBytes, s),
      onRunFailed: (s, e) => this.deviceFailed(s, e),
    });
  }

  /** The device new sessions load on unless a loader asks for another (host/device.ts chooses it). */
  get device(): ActiveDevice {
    return this.active;
  }

  useDevice(active: ActiveDevice): void {
    this.active = active;
  }

  /** Checks in a worker that a device can run a model (DeviceUnavailableError otherwise). */
  probe(device: Device): Promise<DeviceCapabilities> {
    return this.client.probe(device);
  }

  /**
   * Under `auto`, a run that fails on a GPU device (device lost, provider error, dead worker) moves every
   * session on that device to the CPU: the failing job has its error, the next job runs on the CPU.
   * An explicitly chosen device is never left silently.
   */
  private deviceFailed(s: RemoteSession, e: Error): void {
    const failed = s.device;
    if (this.active.requested.kind !== 'auto' || failed.kind === 'cpu' || this.active.device.kind === 'cpu') return;
    const reason = `${e.name}: ${e.message.split('\n')[0]}`;
    this.active = { ...this.active, device: CPU, fellBackFrom: { device: failed, reason } };
    this.log(`latentflow: ${formatDevice(failed)} failed (${reason}); auto moves sessions to the cpu`);
    for (const other of this.sessions()) {
      if (other.device.kind === failed.kind && other.device.index === failed.index) other.retarget({ ...other.options, device: CPU });
    }
  }

  /**
   * The shared session for a model file, loading it (once) if needed. Sessions created with different
   * `options` (e.g. freeDimensionOverrides for one latent size) or a different weight `patch` (a LoRA
   * set with its strengths) are distinct sessions; an empty patch is the unpatched session.
   */
  async session(modelPath: string, options?: SessionOptions, patch?: WeightPatch): Promise<ModelSession> {
    if (this.closed) throw new SessionClosedError(`cannot load ${modelPath}: the model pool is closed`);
    const file = path.resolve(modelPath);
    const weights = isEmptyPatch(patch) ? undefined : patch;
    let key = options ? `${file}\0${stableJson(options)}` : file;
    if (weights) key += `\0patch:${stableJson(weights)}`;
    let entry = this.entries.get(key);
    if (!entry) {
      const promise = this.load(file, options, weights);
      const created: Entry = { promise };
      entry = created;
      this.entries.set(key, created);
      promise.then(
        (s) => {
          created.session = s;
        },
        () => {
          if (this.entries.get(key) === created) this.entries.delete(key);
        },
      );
    }
    const s = await entry.promise;
    s.touch();
    if (!s.loaded) await s.load();
    return s;
  }

  private async load(file: string, options?: SessionOptions, patch?: WeightPatch): Promise<RemoteSession> {
    // Make room for at least the file itself before the worker reads it; external data is counted after.
    const fileBytes = await stat(file).then((st) => st.size, () => 0);
    this.enforce(this.budgetBytes - fileBytes);
    // The pool's device is the default; a loader's own `device` (CLIPLoader's "cpu") wins.
    const { device, capabilities, requested } = this.active;
    if (device.kind === 'cpu' || options?.device?.kind === 'cpu') return this.client.load(file, options, patch);
    const onDevice: SessionOptions = { device, ...(capabilities?.float16 === false ? { deviceFloat16: false } : {}), ...options };
    try {
      return await this.client.load(file, onDevice, patch);
    } catch (e) {
      // `auto` runs what the device cannot compute (float16 on an adapter without it) on the CPU; a named device refuses.
      if (!(e instanceof DeviceDtypeError) || requested.kind !== 'auto') throw e;
      this.log(`latentflow: ${path.basename(path.dirname(file))}/${path.basename(file)} runs on the cpu: ${e.message.split(';')[0]}`);
      return this.client.load(file, { ...options, device: CPU }, patch);
    }
  }

  private sessions(): RemoteSession[] {
    const out: RemoteSession[] = [];
    for (const e of this.entries.values()) if (e.session) out.push(e.session);
    return out.sort((a, b) => a.lastUsed - b.lastUsed);
  }

  private resident(extra?: RemoteSession): number {
    const all = new Set(this.sessions());
    if (extra) all.add(extra);
    let n = 0;
    for (const s of all) if (s.loaded) n += s.bytes;
    return n;
  }

  /**
   * Unloads idle sessions, least recently used first, until `limit` is met. `keep` (the session just
   * loaded or just used) is spared, so a budget smaller than one model cannot make it thrash.
   */
  private enforce(limit: number, keep?: RemoteSession): void {
    let resident = this.resident(keep);
    for (const s of this.sessions()) {
      if (resident <= limit) break;
      if (s === keep || !s.loaded || s.inFlight > 0) continue;
      resident -= s.bytes;
      this.evict(s);
    }
  }

  private evict(s: RemoteSession): void {
    this.evictions++;
    // A failed release leaves the worker holding memory; the next crash or close reclaims it.
    s.release().catch(() => undefined);
  }

  stats(): ModelPoolStats {
    return {
      budgetBytes: this.budgetBytes,
      residentBytes: this.resident(),
      sessions: this.sessions().map((s) => ({ path: s.path, device: formatDevice(s.device), bytes: s.bytes, loaded: s.loaded, inFlight: s.inFlight })),
      loads: this.loads,
      evictions: this.evictions,
    };
  }

  /** Unloads every session without a run in flight; their proxies reload on next use. */
  async evictAll(): Promise<void> {
    const idle = this.sessions().filter((s) => s.loaded && s.inFlight === 0);
    this.evictions += idle.length;
    await Promise.all(idle.map((s) => s.release()));
  }

  /** Fault drill: kills the worker hosting the loaded session(s) of `modelPath` (tests of crash and device-loss handling). */
  faultDrill(modelPath: string): void {
    const file = path.resolve(modelPath);
    for (const s of this.sessions()) if (s.path === file && s.loaded) this.client.faultDrill(s);
  }

  /** Terminates the workers; every session becomes unusable. */
  async close(): Promise<void> {
    this.closed = true;
    await this.client.close();
  }
}
