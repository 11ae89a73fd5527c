import type { NodeContext, NodeDefinition, PreviewImage, UiOutput } from './define-node.js';
import type { NodeRegistry } from './registry.js';
import type { Services } from './services.js';
import type { FileAccess } from './files.js';
import type { ApiWorkflow } from './workflow.js';
import type { ResolvedNode } from './validate/types.js';
import type { EngineEvent, EventListener } from './events.js';
import type { CachedOutputs, OutputCache } from './cache/output-cache.js';
import { InterruptedError, NodeExecutionError, isAbortError } from './errors.js';
import { contentKeys } from './execute/content-keys.js';
import { walkDemand } from './execute/demand.js';
import { runReadyQueue } from './execute/ready-queue.js';
import { invokeNode } from './execute/invoke-node.js';

export interface ExecutionPlanInput {
  promptId: string;
  workflow: ApiWorkflow;
  nodes: ReadonlyMap<string, ResolvedNode>;
  outputs: readonly string[];
  extraPngInfo?: Record<string, unknown>;
}

export interface ExecutorDeps {
  registry: NodeRegistry;
  services: Services;
  /** This run's file access (the host's per-job naming, or the engine's default). */
  files: FileAccess;
  /** This run's values for its nodes (NodeContext.job). */
  job: Services;
  cache: OutputCache;
  concurrency: number;
  log?: (message: string) => void;
}

export interface ExecutionResult {
  status: 'success' | 'error' | 'interrupted';
  promptId: string;
  /** UI results per output node, as stored in history. */
  outputs: Record<string, UiOutput>;
  executed: string[];
  cached: string[];
  error?: { nodeId: string; nodeType: string; message: string; errorType: string };
  /** Every event of the run, in order, as `[type, data]` (ComfyUI history `status.messages`). */
  messages: [string, unknown][];
}

function summarise(inputs: ResolvedNode['inputs']): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(inputs)) {
    if (v.kind === 'link') out[k] = [v.from, v.slot];
    else out[k] = typeof v.value === 'bigint' ? v.value.toString() : typeof v.value === 'string' && v.value.length > 200 ? `${v.value.slice(0, 200)}...` : v.value;
  }
  return out;
}

/**
 * Runs a validated plan in four phases: content keys, the demand walk back from the outputs (cache hits
 * stop it), the ready queue over what is missing, and the outcome event. Interrupts abort between nodes
 * and, through `ctx.signal`, between sampler steps.
 */
export async function execute(plan: ExecutionPlanInput, deps: ExecutorDeps, signal: AbortSignal, listener?: EventListener, wantsPreviews = false): Promise<ExecutionResult> {
  const messages: [string, unknown][] = [];
  const emit = (ev: EngineEvent) => {
    if (ev.type !== 'progress') messages.push([ev.type, ev.data]);
    listener?.(ev);
  };
  const pid = plan.promptId;
  // Validation hands the nodes over in dependency order.
  const order = [...plan.nodes.keys()];
  const defs = new Map<string, NodeDefinition>();
  for (const id of order) defs.set(id, deps.registry.get(plan.nodes.get(id)!.classType)!);
  const hidden = { workflow: plan.workflow, extraPngInfo: plan.extraPngInfo };

  emit({ type: 'execution_start', data: { prompt_id: pid, timestamp: Date.now() } });
  const keys = await contentKeys(order, plan.nodes, defs, hidden, deps.services);
  const { hits: results, needed, cached } = walkDemand(plan.outputs, plan.nodes, keys, deps.cache);
  const cachedSorted = order.filter((id) => results.has(id));
  emit({ type: 'execution_cached', data: { nodes: cachedSorted, prompt_id: pid, timestamp: Date.now() } });

  const outputs: Record<string, UiOutput> = {};
  const outputSet = new Set(plan.outputs);
  for (const id of cachedSorted) {
    const ui = results.get(id)!.ui;
    if (ui && outputSet.has(id)) {
      outputs[id] = ui;
      emit({ type: 'executed', data: { node: id, display_node: id, output: ui, prompt_id: pid } });
    }
  }

  const executed: string[] = [];
  const inner = new AbortController();
  const onAbort = () => inner.abort(signal.reason ?? new InterruptedError());
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });

  const runNode = async (id: string): Promise<void> => {
    const node = plan.nodes.get(id)!;
    const def = defs.get(id)!;
    if (inner.signal.aborted) throw new InterruptedError();
    emit({ type: 'executing', data: { node: id, display_node: id, prompt_id: pid } });
    const ctx: NodeContext = {
      nodeId: id,
      classType: def.type,
      promptId: pid,
      signal: inner.signal,
      wantsPreviews,
      services: deps.services,
      files: deps.files,
      job: deps.job,
      progress: (value: number, max: number, preview?: PreviewImage) =>
        emit({ type: 'progress', data: { value, max, prompt_id: pid, node: id }, preview }),
      log: (m: string) => deps.log?.(`[${id} ${def.type}] ${m}`),
    };
    const out: CachedOutputs = await invokeNode(def, node, ctx, results, hidden);
    if (out.ui) {
      if (outputSet.has(id)) outputs[id] = out.ui;
      emit({ type: 'executed', data: { node: id, display_node: id, output: out.ui, prompt_id: pid } });
    }
    results.set(id, out);
    executed.push(id);
    deps.cache.set(keys.get(id)!, out);
  };
  const failure = await runReadyQueue({ order, needed, nodes: plan.nodes, concurrency: deps.concurrency, inner, run: runNode });
  signal.removeEventListener('abort', onAbort);

  if (failure && !(failure.error instanceof InterruptedError) && !isAbortError(failure.error)) {
    const err = failure.error;
    const node = plan.nodes.get(failure.id)!;
    const original = err instanceof NodeExecutionError ? err.original : err;
    const message = original instanceof Error ? original.message : String(original);
    const errorType = original instanceof Error ? original.name : 'Error';
    emit({
      type: 'execution_error',
      data: {
        prompt_id: pid,
        node_id: failure.id,
        node_type: node.classType,
        executed,
        exception_message: message,
        exception_type: errorType,
        traceback: original instanceof Error && original.stack ? original.stack.split('\n').slice(1, 12).map((l) => l.trim()) : [],
        current_inputs: summarise(node.inputs),
        current_outputs: {},
        timestamp: Date.now(),
      },
    });
    return { status: 'error', promptId: pid, outputs, executed, cached, messages, error: { nodeId: failure.id, nodeType: node.classType, message, errorType } };
  }
  if (failure || signal.aborted) {
    const nodeId = failure?.id ?? '';
    emit({
      type: 'execution_interrupted',
      data: { prompt_id: pid, node_id: nodeId, node_type: nodeId ? plan.nodes.get(nodeId)!.classType : '', executed, timestamp: Date.now() },
    });
    return { status: 'interrupted', promptId: pid, outputs, executed, cached, messages };
  }
  emit({ type: 'execution_success', data: { prompt_id: pid, timestamp: Date.now() } });
  return { status: 'success', promptId: pid, outputs, executed, cached, messages };
}
