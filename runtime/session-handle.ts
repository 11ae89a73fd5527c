/**
 * How diffusion nodes reach ONNX sessions. Structural on purpose: the runtime layer's `ModelSession`
 * (worker-thread proxies from a memory-budgeted pool) satisfies it, and so does a plain session in tests.
 */
import type { FeedMap, IoMeta, TensorMap } from './io-meta.js';
import type { SessionOptions } from './onnx-session-options.js';
import type { WeightPatch } from './weight-patch.js';

export interface SessionRunOptions {
  /** Alias groups, one per wanted output; results are keyed by each group's first name. */
  readonly outputs?: readonly (readonly string[])[];
  readonly signal?: AbortSignal;
}

export interface DiffusionSession {
  readonly inputs: readonly IoMeta[];
  readonly outputs: readonly IoMeta[];
  run(feeds: FeedMap, opts?: SessionRunOptions): Promise<TensorMap>;
}

/**
 * Hands out sessions by model file path (the model pool; loads once and shares). A source that takes a
 * weight patch (the model pool) creates patched sessions; one that ignores it cannot serve LoRAs.
 */
export interface SessionSource {
  session(modelPath: string, options?: SessionOptions, patch?: WeightPatch): Promise<DiffusionSession>;
}

/** A lazily opened session of one model file (with its weight patch): nothing loads until the first call needs it. */
export class SessionHandle {
  private opened: Promise<DiffusionSession> | undefined;

  constructor(
    readonly source: SessionSource,
    readonly path: string,
    /** Per-loader session options, e.g. CLIPLoader's `device: cpu` (runtime/devices.ts). */
    private readonly options?: SessionOptions,
    /** LoRA deltas and embedding rows this session's weights carry (undefined: the file's own weights). */
    readonly patch?: WeightPatch,
  ) {}

  /** The same model with another weight patch (a new handle; this one is unchanged). */
  withPatch(patch: WeightPatch | undefined): SessionHandle {
    return new SessionHandle(this.source, this.path, this.options, patch);
  }

  get(): Promise<DiffusionSession> {
    this.opened ??= this.source.session(this.path, this.options, this.patch).catch((e: unknown) => {
      this.opened = undefined;
      throw e;
    });
    return this.opened;
  }
}

export function hasInput(s: DiffusionSession, name: string): boolean {
  return s.inputs.some((m) => m.name === name);
}

export function hasOutput(s: DiffusionSession, name: string): boolean {
  return s.outputs.some((m) => m.name === name);
}
