import { randomUUID } from 'node:crypto';
import type { NodeRegistry } from './registry.js';
import type { FileAccess } from './files.js';
import type { EventListener } from './events.js';
import type { ValidationResult } from './validate/types.js';
import type { ExecutionResult } from './executor.js';
import type { ObjectInfoEntry } from './object-info.js';
import { Services } from './services.js';
import { OutputCache } from './cache/output-cache.js';
import { validateWorkflow, type ValidateOptions } from './validate/validate-workflow.js';
import { execute } from './executor.js';
import { objectInfo, objectInfoEntry } from './object-info.js';
import { ValidationFailedError } from './errors.js';
import { inferShapes, type WorkflowShapes } from './shapes.js';
import { estimateMemory, type MemoryEstimate } from './memory-estimate.js';

export interface EngineOptions {
  registry: NodeRegistry;
  files: FileAccess;
  services?: Services;
  /** How many independent nodes may run at once (default 4). */
  concurrency?: number;
  /** Output-cache size in nodes (default 512). */
  cacheEntries?: number;
  log?: (message: string) => void;
}

export interface RunOptions extends ValidateOptions {
  promptId?: string;
  /** ComfyUI `extra_data`; `extra_pnginfo.workflow` is written into saved PNGs. */
  extraData?: { extra_pnginfo?: Record<string, unknown>; [k: string]: unknown };
  signal?: AbortSignal;
  onEvent?: EventListener;
  /** Render step previews (default: when there is an event listener). */
  previews?: boolean;
  /** This run's file access (a host names each job's outputs after the job); default: the engine's. */
  files?: FileAccess;
  /** Values for this run's nodes (`ctx.job`), by typed key: the job's scheduler lane, ... */
  job?: Services;
}

const NO_JOB_VALUES = new Services();

/** The embeddable engine: a registry, host services and a cache; validates and runs workflows. */
export class Engine {
  readonly registry: NodeRegistry;
  readonly services: Services;
  readonly files: FileAccess;
  readonly cache: OutputCache;
  private readonly concurrency: number;
  private readonly log?: (message: string) => void;

  constructor(opts: EngineOptions) {
    this.registry = opts.registry;
    this.services = opts.services ?? new Services();
    this.files = opts.files;
    this.cache = new OutputCache(opts.cacheEntries ?? 512);
    this.concurrency = Math.max(1, opts.concurrency ?? 4);
    this.log = opts.log;
  }

  validate(workflow: unknown, opts: ValidateOptions = {}): ValidationResult {
    return validateWorkflow(workflow, this.registry, this.services, opts);
  }

  objectInfo(): Record<string, ObjectInfoEntry> {
    return objectInfo(this.registry, this.services);
  }

  objectInfoFor(type: string): ObjectInfoEntry | undefined {
    const def = this.registry.get(type);
    return def ? objectInfoEntry(def, this.services) : undefined;
  }

  /** Output shapes of every node, without running (nulls where unknown); accepts incomplete workflows. */
  inferShapes(workflow: unknown): Promise<WorkflowShapes> {
    return inferShapes(workflow, this.registry, this.services);
  }

  /** Peak bytes of running a validated workflow, from the shape and size rules of its sockets and nodes. */
  estimateMemory(workflow: unknown, v: ValidationResult): Promise<MemoryEstimate> {
    return estimateMemory(workflow, v.nodes.keys(), this.registry, this.services);
  }

  /** Validates then executes; throws ValidationFailedError (with every error) when nothing can run. */
  async run(workflow: unknown, opts: RunOptions = {}): Promise<ExecutionResult> {
    const v = this.validate(workflow, opts);
    if (!v.ok) throw new ValidationFailedError(v.error?.message ?? 'invalid workflow', v);
    return this.runValidated(workflow as Record<string, never>, v, opts);
  }

  /** Executes an already validated workflow (the server validates at submission time). */
  runValidated(workflow: unknown, v: ValidationResult, opts: RunOptions = {}): Promise<ExecutionResult> {
    const wf = workflow as import('./workflow.js').ApiWorkflow;
    return execute(
      { promptId: opts.promptId ?? randomUUID(), workflow: wf, nodes: v.nodes, outputs: v.outputs, extraPngInfo: opts.extraData?.extra_pnginfo },
      { registry: this.registry, services: this.services, files: opts.files ?? this.files, job: opts.job ?? NO_JOB_VALUES, cache: this.cache, concurrency: this.concurrency, log: this.log },
      opts.signal ?? new AbortController().signal,
      opts.onEvent,
      opts.previews ?? opts.onEvent !== undefined,
    );
  }
}
