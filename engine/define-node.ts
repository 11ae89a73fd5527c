import type { InputSpec, ValueOf } from './inputs.js';
import type { SocketType } from './socket-types.js';
import type { Services } from './services.js';
import type { FileAccess } from './files.js';
import type { ApiWorkflow } from './workflow.js';
import { NodeDefinitionError } from './errors.js';
import { isSocketId } from './socket-types.js';
import type { InferredShapes, Shape } from './shape-types.js';

/** A small encoded preview image attached to a progress event (ComfyUI binary preview frames). */
export interface PreviewImage {
  readonly format: 'JPEG' | 'PNG';
  readonly data: Uint8Array;
  readonly width?: number;
  readonly height?: number;
}

/** What a running node may use. Narrow on purpose: no globals, everything through the host. */
export interface NodeContext {
  readonly nodeId: string;
  readonly classType: string;
  readonly promptId: string;
  readonly signal: AbortSignal;
  progress(value: number, max: number, preview?: PreviewImage): void;
  /** Whether anyone shows previews for this job; nodes skip rendering them otherwise. */
  readonly wantsPreviews: boolean;
  log(message: string): void;
  readonly services: Services;
  /** This run's file access: output naming per job, as the host chose it for this run. */
  readonly files: FileAccess;
  /** Values the host passes for this run only (the job's scheduler lane, ...), by typed key. */
  readonly job: Services;
}

/** ComfyUI's hidden inputs, filled by the engine rather than by links or widgets. */
export interface HiddenValues {
  PROMPT: ApiWorkflow;
  EXTRA_PNGINFO: Record<string, unknown> | undefined;
  UNIQUE_ID: string;
}
export type HiddenKind = keyof HiddenValues;

export interface OutputSpecList<V> {
  readonly socket: SocketType<V>;
  readonly list: true;
  readonly tooltip?: string;
}
export type OutputSpec = SocketType<unknown> | OutputSpecList<unknown>;

/** An output whose value is a list: downstream nodes run once per element (ComfyUI OUTPUT_IS_LIST). */
export function listOf<V>(socket: SocketType<V>, tooltip?: string): OutputSpecList<V> {
  return Object.freeze({ socket, list: true, tooltip });
}

export type InputMap = Record<string, InputSpec<unknown>>;
export type OutputMap = Record<string, OutputSpec>;
export type HiddenMap = Record<string, HiddenKind>;

type OutValue<S> = S extends OutputSpecList<infer V> ? V[] : S extends SocketType<infer V> ? V : never;
export type OutputValues<O extends OutputMap> = { [K in keyof O]: OutValue<O[K]> };

type Lift<V, L extends boolean> = L extends true ? V[] : V;
export type InputValues<R extends InputMap, P extends InputMap, H extends HiddenMap, L extends boolean> = {
  [K in keyof R]: Lift<ValueOf<R[K]>, L>;
} & { [K in keyof P]?: Lift<ValueOf<P[K]>, L> } & { [K in keyof H]: HiddenValues[H[K]] };

/** UI results shown by the client and stored in history (`{images: [{filename, subfolder, type}]}`). */
export type UiOutput = Record<string, unknown[]>;

export type RunResult<O extends OutputMap> = OutputValues<O> & { ui?: UiOutput };

export interface NodeSpec<R extends InputMap, P extends InputMap, H extends HiddenMap, O extends OutputMap, L extends boolean> {
  readonly type: string;
  readonly displayName?: string;
  readonly category: string;
  /** Bumped when behaviour changes; part of every cache key. */
  readonly version: string;
  readonly description?: string;
  readonly inputs: R;
  readonly optional?: P;
  readonly hidden?: H;
  readonly outputs: O;
  readonly outputNode?: boolean;
  /** ComfyUI INPUT_IS_LIST: `run` receives whole lists instead of being mapped over them. */
  readonly inputIsList?: L;
  readonly deprecated?: boolean;
  readonly experimental?: boolean;
  /** ComfyUI IS_CHANGED: extra content for the cache key (a file hash, say). */
  fingerprint?(inputs: InputValues<R, P, H, L>, services: Services): string | Promise<string>;
  /** ComfyUI VALIDATE_INPUTS: return an error message, or undefined when valid. */
  check?(inputs: Partial<InputValues<R, P, H, L>>): string | undefined;
  /**
   * Output shapes without running, for the editor: `values` holds the constant inputs, `shapes` the
   * shapes of what feeds the linked ones (when known). Pure and quick; may read file headers.
   */
  infer?(values: Partial<InputValues<R, P, H, L>>, shapes: Partial<Record<keyof R | keyof P, Shape>>, services: Services): InferredShapes<keyof O> | Promise<InferredShapes<keyof O>>;
  /**
   * Bytes the node holds while it runs beyond its outputs (model activations, conversion copies), from
   * the same `values`/`shapes` as `infer` plus the inferred `outputs`; memory admission adds the
   * largest of these to the run's outputs (engine/memory-estimate.ts). Pure and quick.
   */
  workBytes?(values: Partial<InputValues<R, P, H, L>>, shapes: Partial<Record<keyof R | keyof P, Shape>>, outputs: InferredShapes<keyof O>): number;
  run(ctx: NodeContext, inputs: InputValues<R, P, H, L>): Promise<RunResult<O>> | RunResult<O>;
}

/** The erased form the engine stores; `run` takes the resolved input record. */
export interface NodeDefinition {
  readonly type: string;
  readonly displayName: string;
  readonly category: string;
  readonly version: string;
  readonly description: string;
  readonly inputs: Readonly<InputMap>;
  readonly optional: Readonly<InputMap>;
  readonly hidden: Readonly<HiddenMap>;
  readonly outputs: readonly { readonly name: string; readonly socket: SocketType<unknown>; readonly list: boolean; readonly tooltip?: string }[];
  readonly outputNode: boolean;
  readonly inputIsList: boolean;
  readonly deprecated: boolean;
  readonly experimental: boolean;
  fingerprint?(inputs: Record<string, unknown>, services: Services): string | Promise<string>;
  check?(inputs: Record<string, unknown>): string | undefined;
  infer?(values: Record<string, unknown>, shapes: Record<string, Shape | undefined>, services: Services): InferredShapes<string> | Promise<InferredShapes<string>>;
  workBytes?(values: Record<string, unknown>, shapes: Record<string, Shape | undefined>, outputs: InferredShapes<string>): number;
  run(ctx: NodeContext, inputs: Record<string, unknown>): Promise<Record<string, unknown>> | Record<string, unknown>;
}

const TYPE_NAME = /^[A-Za-z_][A-Za-z0-9_ .+-]*$/;

/** Declares a node: the single source of its types, schema, `/object_info` entry and widgets. */
export function defineNode<
  R extends InputMap,
  O extends OutputMap,
  P extends InputMap = Record<never, never>,
  H extends HiddenMap = Record<never, never>,
  L extends boolean = false,
>(spec: NodeSpec<R, P, H, O, L>): NodeDefinition {
  if (!TYPE_NAME.test(spec.type)) throw new NodeDefinitionError(`invalid node type name '${spec.type}'`);
  const outputs = Object.entries(spec.outputs).map(([name, o]) => {
    if (name === 'ui') throw new NodeDefinitionError(`${spec.type}: 'ui' is reserved and cannot be an output name`);
    const isList = 'list' in o && o.list === true;
    const socket = 'list' in o ? o.socket : o;
    if (!isSocketId(socket.id)) throw new NodeDefinitionError(`${spec.type}.${name}: unknown socket type '${socket.id}'`);
    return Object.freeze({ name, socket, list: isList, tooltip: 'tooltip' in o ? o.tooltip : undefined });
  });
  const optional: InputMap = spec.optional ?? {};
  for (const name of Object.keys(spec.inputs)) {
    if (name in optional) throw new NodeDefinitionError(`${spec.type}: input '${name}' is both required and optional`);
  }
  const def: NodeDefinition = {
    type: spec.type,
    displayName: spec.displayName ?? spec.type,
    category: spec.category,
    version: spec.version,
    description: spec.description ?? '',
    inputs: Object.freeze({ ...spec.inputs }),
    optional: Object.freeze({ ...optional }),
    hidden: Object.freeze({ ...(spec.hidden ?? {}) }),
    outputs: Object.freeze(outputs),
    outputNode: spec.outputNode ?? false,
    inputIsList: spec.inputIsList ?? false,
    deprecated: spec.deprecated ?? false,
    experimental: spec.experimental ?? false,
    // The engine builds `inputs` from this very spec (validated, coerced, hidden values filled), so the
    // erased record has the declared shape; this is the one place that narrowing happens.
    fingerprint: spec.fingerprint ? (inp, services) => spec.fingerprint!(inp as InputValues<R, P, H, L>, services) : undefined,
    check: spec.check ? (inp) => spec.check!(inp as Partial<InputValues<R, P, H, L>>) : undefined,
    // The engine fills `values` only with constants that match their input's kind.
    infer: spec.infer
      ? (values, shapes, services) => spec.infer!(values as Partial<InputValues<R, P, H, L>>, shapes as Partial<Record<keyof R | keyof P, Shape>>, services) as InferredShapes<string> | Promise<InferredShapes<string>>
      : undefined,
    workBytes: spec.workBytes
      ? (values, shapes, outs) => spec.workBytes!(values as Partial<InputValues<R, P, H, L>>, shapes as Partial<Record<keyof R | keyof P, Shape>>, outs as InferredShapes<keyof O>)
      : undefined,
    run: (ctx, inp) => spec.run(ctx, inp as InputValues<R, P, H, L>),
  };
  return Object.freeze(def);
}
