import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { Engine, Services, localFiles, type FileAccess, type NodeDefinition } from '../engine/index.js';
import { createRegistry } from './registry.js';
import { FOLDERS, MODEL_POOL, type Folders } from '../runtime/services.js';
import { ModelPool } from '../runtime/model-pool.js';
import type { DeviceRequest } from '../runtime/devices.js';
import { selectDevice } from '../runtime/device-select.js';
import { StepScheduler, type SchedulerOptions } from '../runtime/batching/index.js';
import { MEMORY_LIMIT, defaultMemoryLimit } from './memory-admission.js';
import { RuntimeConfigError } from '../runtime/errors.js';

export interface HostOptions {
  /** Base directory holding models/, input/, output/, temp/, data/ (default: current directory). */
  baseDir?: string;
  modelsDir?: string;
  inputDir?: string;
  outputDir?: string;
  tempDir?: string;
  dataDir?: string;
  /** Model memory budget (bytes) for the model pool. */
  memoryBudgetBytes?: number;
  /**
   * Memory admission (host/memory-admission.ts): jobs whose estimated peak plus the loaded models exceed
   * this are refused. Default: 75% of RAM (defaultMemoryLimit); 0 turns the check off.
   */
  memoryLimitBytes?: number;
  /** Execution device of the sessions (`--device`; default cpu). A device that cannot run fails createHost. */
  device?: DeviceRequest;
  /** Node concurrency inside one job. */
  concurrency?: number;
  /** Cross-job U-Net batching of the jobs this host runs at once (docs/scheduling.md). */
  batching?: SchedulerOptions;
  /** Replaces the default ComfyUI counter naming (the server derives names from prompt ids). */
  files?: (folders: Folders) => FileAccess;
  /** Extra services (the model pool, ...) registered before the engine starts. */
  services?: (services: Services, folders: Folders) => void | Promise<void>;
  extraNodes?: Iterable<NodeDefinition>;
  /** Wipe temp/ at start, as ComfyUI does. */
  cleanTemp?: boolean;
  log?: (message: string) => void;
}

export interface Host {
  readonly engine: Engine;
  readonly folders: Folders;
  readonly services: Services;
  /** The step scheduler every job of this host runs in (a lane per job; see host/run-job.ts). */
  readonly scheduler: StepScheduler;
  close(): Promise<void>;
}

/** Resolves the folder rules shared by the CLI and the server. */
export function resolveFolders(opts: HostOptions): Folders {
  const base = path.resolve(opts.baseDir ?? process.cwd());
  return {
    base,
    models: path.resolve(opts.modelsDir ?? path.join(base, 'models')),
    input: path.resolve(opts.inputDir ?? path.join(base, 'input')),
    output: path.resolve(opts.outputDir ?? path.join(base, 'output')),
    temp: path.resolve(opts.tempDir ?? path.join(base, 'temp')),
    data: path.resolve(opts.dataDir ?? path.join(base, 'data')),
  };
}

const closers = new WeakMap<Services, (() => Promise<void> | void)[]>();

/** Registers a cleanup to run when the host closes (a model pool's workers, say). */
export function onHostClose(services: Services, fn: () => Promise<void> | void): void {
  const list = closers.get(services) ?? [];
  list.push(fn);
  closers.set(services, list);
}

/** Creates the folders, services and engine of one latentflow process (CLI or server). */
export async function createHost(opts: HostOptions = {}): Promise<Host> {
  const folders = resolveFolders(opts);
  if (opts.cleanTemp) await rm(folders.temp, { recursive: true, force: true });
  for (const dir of [folders.models, folders.input, folders.output, folders.temp, folders.data]) await mkdir(dir, { recursive: true });
  const services = new Services().set(FOLDERS, folders);
  const pool = new ModelPool({ memoryBudgetBytes: opts.memoryBudgetBytes, log: opts.log ?? ((m) => process.stderr.write(`${m}\n`)) });
  services.set(MODEL_POOL, pool);
  const limit = opts.memoryLimitBytes ?? defaultMemoryLimit();
  if (!Number.isFinite(limit) || limit < 0) throw new RuntimeConfigError(`the memory limit must be a non-negative number of bytes, got ${limit}`);
  if (limit > 0) services.set(MEMORY_LIMIT, limit);
  onHostClose(services, () => pool.close());
  if (opts.device) {
    try {
      pool.useDevice(await selectDevice(opts.device, (d) => pool.probe(d)));
    } catch (e) {
      await pool.close();
      throw e;
    }
  }
  await opts.services?.(services, folders);
  const files = opts.files ? opts.files(folders) : localFiles({ input: folders.input, output: folders.output, temp: folders.temp });
  const engine = new Engine({ registry: createRegistry(opts.extraNodes), services, files, concurrency: opts.concurrency, log: opts.log });
  return {
    engine,
    folders,
    services,
    scheduler: new StepScheduler(opts.batching),
    async close() {
      for (const fn of closers.get(services) ?? []) await fn();
    },
  };
}
