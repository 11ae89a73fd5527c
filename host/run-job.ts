import { loadSharp } from '../imaging/codec.js';
import { Services, type ApiWorkflow, type Engine, type EngineEvent, type ExecutionResult, type PreviewImage, type UiOutput, type ValidationResult } from '../engine/index.js';
import { JOB_LANE, type StepScheduler } from '../runtime/batching/index.js';
import type { JobFiles, WrittenFile } from './job-files.js';
import { checkMemory } from './memory-admission.js';

/** One job, as the server's queue, the batch CLI and a queue worker all hand it over. */
export interface JobSpec {
  /** The prompt id (server, worker) or batch job id: events and history carry it. */
  readonly id: string;
  /** API-format workflow; validated here (a stored prompt may no longer validate against this host). */
  readonly workflow: unknown;
  /** Output nodes to run (ComfyUI `partial_execution_targets`); default: every output node. */
  readonly targets?: readonly string[];
  /** ComfyUI `extra_data`; `extra_pnginfo` (when an object) goes into saved PNGs. */
  readonly extraData?: Readonly<Record<string, unknown>>;
  /** Makes this job's files (named after it) for each attempt. */
  readonly files: () => JobFiles;
  /** ComfyUI's `front`: served first at step boundaries. */
  readonly front?: boolean;
  /** Render step previews (default: when there is an event listener). */
  readonly previews?: boolean;
  /**
   * Batch jobs must end with files of their own: when a save node came from another job's cache (two
   * jobs equal upstream of it), the cache is cleared and the job runs again. Also refuses a workflow
   * with any invalid output node, where ComfyUI runs the valid ones.
   */
  readonly batch?: boolean;
}

export interface JobOutcome {
  readonly result: ExecutionResult;
  readonly written: readonly WrittenFile[];
  /** Set when the workflow did not validate (the result is then a ValidationError). */
  readonly invalid?: ValidationResult;
}

export interface JobHooks {
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: EngineEvent) => void;
}

/** Where jobs run: an engine (local, or the server's Redis dispatcher) and the step scheduler they share. */
export interface JobExecutor {
  readonly engine: Engine;
  readonly scheduler: StepScheduler;
}

/** Runs a job elsewhere (a queue worker); `onStart` when a worker really starts it. */
export interface JobDispatcher {
  run(
    job: { readonly id: string; readonly workflow: ApiWorkflow },
    ctx: { signal: AbortSignal; onStart: () => void; onEvent: (event: EngineEvent) => void },
  ): Promise<{ result: ExecutionResult; written: readonly WrittenFile[] }>;
}

export type ExecutionErrorData = Extract<EngineEvent, { type: 'execution_error' }>['data'];

/** ComfyUI's `execution_error` payload for an error outside any node (validation, the queue, a worker). */
export function executionErrorData(promptId: string, type: string, message: string, node = '', nodeType = ''): ExecutionErrorData {
  return { prompt_id: promptId, node_id: node, node_type: nodeType, executed: [], exception_message: message, exception_type: type, traceback: [], current_inputs: {}, current_outputs: {}, timestamp: Date.now() };
}

/** The result of a job that failed outside any node, with its `execution_error` message. */
export function errorResult(promptId: string, type: string, message: string, node = '', nodeType = ''): ExecutionResult {
  const data = executionErrorData(promptId, type, message, node, nodeType);
  return { status: 'error', promptId, outputs: {}, executed: [], cached: [], error: { nodeId: node, nodeType, errorType: type, message }, messages: [['execution_error', data]] };
}

/** Preview frames of type 1 are always JPEG (ComfyUI clients read the image from byte 8 as JPEG). */
export async function previewJpeg(p: PreviewImage): Promise<Uint8Array> {
  if (p.format === 'JPEG') return p.data;
  return (await loadSharp())(p.data).jpeg({ quality: 90 }).toBuffer();
}

/** `extra_pnginfo` is written into PNGs only when it is an object (clients send anything). */
function pngInfoOf(extraData: Readonly<Record<string, unknown>> | undefined): Record<string, unknown> | undefined {
  const info = extraData?.extra_pnginfo;
  return typeof info === 'object' && info !== null && !Array.isArray(info) ? (info as Record<string, unknown>) : undefined;
}

function writesOutputFiles(ui: UiOutput | undefined): boolean {
  return Object.values(ui ?? {}).some((list) => list.some((x) => x !== null && typeof x === 'object' && 'type' in x && x.type === 'output'));
}

/** True when an output node came from the shared cache: it saved nothing for this job. */
function reusedSavedOutputs(result: ExecutionResult): boolean {
  return result.cached.some((id) => writesOutputFiles(result.outputs[id]));
}

/**
 * The one sequence that runs a job, for the server, the batch CLI and the queue worker: validate,
 * open a scheduler lane, run on the engine with this job's files and lane (`RunOptions.files`,
 * `ctx.job`), close the lane. A workflow that does not validate ends as a ValidationError result,
 * with `execution_start` and `execution_error` events as ComfyUI sends them.
 */
export async function runJob(exec: JobExecutor, spec: JobSpec, hooks: JobHooks = {}): Promise<JobOutcome> {
  const { engine, scheduler } = exec;
  const v = engine.validate(spec.workflow, { targets: spec.targets ? [...spec.targets] : undefined });
  if (!v.ok || v.outputs.length === 0 || (spec.batch && Object.keys(v.node_errors).length > 0)) {
    const result = errorResult(spec.id, 'ValidationError', v.error?.message ?? 'the prompt no longer validates');
    hooks.onEvent?.({ type: 'execution_start', data: { prompt_id: spec.id, timestamp: Date.now() } });
    hooks.onEvent?.({ type: 'execution_error', data: executionErrorData(spec.id, 'ValidationError', result.error!.message) });
    return { result, written: [], invalid: v };
  }
  // A stored prompt was checked at submission, but the loaded models (or the limit) may have changed since.
  const refused = await checkMemory(engine, spec.workflow, v);
  if (refused) {
    const n = v.nodes.get(refused.nodeId);
    const result = errorResult(spec.id, 'MemoryBudgetExceeded', refused.error.message, refused.nodeId, n?.classType ?? '');
    hooks.onEvent?.({ type: 'execution_start', data: { prompt_id: spec.id, timestamp: Date.now() } });
    hooks.onEvent?.({ type: 'execution_error', data: executionErrorData(spec.id, 'MemoryBudgetExceeded', refused.error.message, refused.nodeId, n?.classType ?? '') });
    return { result, written: [], invalid: { ...v, ok: false, error: refused.error, node_errors: { ...v.node_errors, ...refused.nodeErrors } } };
  }
  const attempt = async (): Promise<JobOutcome> => {
    const lane = scheduler.lane(spec.id, { front: spec.front });
    const files = spec.files();
    try {
      const result = await engine.runValidated(spec.workflow, v, {
        promptId: spec.id,
        extraData: { ...spec.extraData, extra_pnginfo: pngInfoOf(spec.extraData) },
        signal: hooks.signal,
        onEvent: hooks.onEvent,
        previews: spec.previews,
        files,
        job: new Services().set(JOB_LANE, lane),
      });
      return { result, written: files.written };
    } finally {
      lane.close();
    }
  };
  const first = await attempt();
  if (!spec.batch || first.result.status !== 'success' || !reusedSavedOutputs(first.result)) return first;
  // Rare (two jobs equal upstream of a save node): evict, so this job saves its own files.
  engine.cache.clear();
  return attempt();
}
