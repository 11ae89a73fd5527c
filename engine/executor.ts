import type { NodeContext, NodeDefinition, PreviewImage, UiOutput } from './define-node.js';
import type { NodeRegistry } from './registry.js';
import type { Services } from './services.js';
import type { FileAccess } from './files.js';
import type { ApiWorkflow } from './workflow.js';
import type { ResolvedNode } from './validate/types.js';
import type { EngineEvent, EventListener } from './events.js';
import type { CachedOutputs, OutputCache } from './cache/output-cache.js';
import { cacheKey, contentHash } from './cache/cache-key.js';
import { InterruptedError, NodeExecutionError, isAbortError } from './errors.js';

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
  files: FileAccess;
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

function linkDeps(node: ResolvedNode): string[] {
  const out: string[] = [];
  for (const inp of Object.values(node.inputs)) if (inp.kind === 'link') out.push(inp.from);
  return out;
}

function summarise(inputs: ResolvedNode['inputs']): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(inputs)) {
    if (v.kind === 'link') out[k] = [v.from, v.slot];
    else out[k] = typeof v.value === 'bigint' ? v.value.toString() : typeof v.value === 'string' && v.value.length > 200 ? `${v.value.slice(0, 200)}...` : v.value;
  }
  return out;
}

/** Runs a validated plan: cache lookups, demand-driven scheduling, concurrency, events, interrupt. */
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

  emit({ type: 'execution_start', data: { prompt_id: pid, timestamp: Date.now() } });

  // Content keys, dependency-first. Fingerprints (ComfyUI IS_CHANGED) see the node's constants. Nodes that
  // read hidden inputs (SaveImage embeds the prompt) also key on them: two jobs that differ elsewhere must not
  // share one saved file, while an identical re-submission still hits the cache.
  const keys = new Map<string, string>();
  let promptHash: string | undefined;
  let pngInfoHash: string | undefined;
  const hiddenKey = (def: NodeDefinition, id: string): string => {
    const parts: string[] = [];
    for (const kind of Object.values(def.hidden)) {
      if (kind === 'PROMPT') parts.push(`p:${(promptHash ??= contentHash(plan.workflow))}`);
      else if (kind === 'EXTRA_PNGINFO') parts.push(`x:${(pngInfoHash ??= contentHash(plan.extraPngInfo ?? null))}`);
      else parts.push(`u:${id}`);
    }
    return parts.join(',');
  };
  for (const id of order) {
    const node = plan.nodes.get(id)!;
    const def = defs.get(id)!;
    let fp: string | undefined;
    if (def.fingerprint) {
      const constants: Record<string, unknown> = {};
      for (const [n, r] of Object.entries(node.inputs)) if (r.kind === 'const') constants[n] = r.value;
      try {
        fp = await def.fingerprint(constants, deps.services);
      } catch (e) {
        fp = `error:${e instanceof Error ? e.message : String(e)}:${Date.now()}`;
      }
    }
    keys.set(id, cacheKey(def, node, (up) => keys.get(up)!, fp, hiddenKey(def, id)));
  }

  // Demand-driven: walk back from the outputs, stopping at cache hits.
  const results = new Map<string, CachedOutputs>();
  const needed = new Set<string>();
  const cached: string[] = [];
  const stack = [...plan.outputs];
  const visited = new Set<string>();
  while (stack.length) {
    const id = stack.pop()!;
    if (visited.has(id)) continue;
    visited.add(id);
    const hit = deps.cache.get(keys.get(id)!);
    if (hit) {
      results.set(id, hit);
      cached.push(id);
      continue;
    }
    needed.add(id);
    for (const d of linkDeps(plan.nodes.get(id)!)) stack.push(d);
  }
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
  const waiting = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const id of needed) {
    const ups = new Set(linkDeps(plan.nodes.get(id)!).filter((d) => needed.has(d)));
    waiting.set(id, ups.size);
    for (const u of ups) {
      let l = dependents.get(u);
      if (!l) dependents.set(u, (l = []));
      l.push(id);
    }
  }
  const ready = order.filter((id) => needed.has(id) && waiting.get(id) === 0);
  let readyHead = 0;
  let running = 0;
  let failure: { id: string; error: unknown } | undefined;
  const inner = new AbortController();
  const onAbort = () => inner.abort(signal.reason ?? new InterruptedError());
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });

  await new Promise<void>((resolve) => {
    const pump = () => {
      if (failure || inner.signal.aborted) {
        if (running === 0) resolve();
        return;
      }
      if (readyHead === ready.length && running === 0) return resolve();
      while (readyHead < ready.length && running < deps.concurrency) {
        const id = ready[readyHead++]!;
        running++;
        runNode(id).then(
          (out) => {
            running--;
            results.set(id, out);
            executed.push(id);
            deps.cache.set(keys.get(id)!, out);
            for (const d of dependents.get(id) ?? []) {
              const n = waiting.get(d)! - 1;
              waiting.set(d, n);
              if (n === 0) ready.push(d);
            }
            pump();
          },
          (error: unknown) => {
            running--;
            if (!failure) failure = { id, error };
            inner.abort(error);
            pump();
          },
        );
      }
    };
    pump();
  });
  signal.removeEventListener('abort', onAbort);

  async function runNode(id: string): Promise<CachedOutputs> {
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
      progress: (value: number, max: number, preview?: PreviewImage) =>
        emit({ type: 'progress', data: { value, max, prompt_id: pid, node: id }, preview }),
      log: (m: string) => deps.log?.(`[${id} ${def.type}] ${m}`),
    };
    const out = await runMapped(def, node, ctx);
    if (out.ui) {
      if (outputSet.has(id)) outputs[id] = out.ui;
      emit({ type: 'executed', data: { node: id, display_node: id, output: out.ui, prompt_id: pid } });
    }
    return out;
  }

  async function runMapped(def: NodeDefinition, node: ResolvedNode, ctx: NodeContext): Promise<CachedOutputs> {
    const single: Record<string, unknown> = {};
    const lists: Record<string, unknown[]> = {};
    let n = 1;
    let anyList = false;
    for (const [name, inp] of Object.entries(node.inputs)) {
      if (inp.kind === 'const') {
        single[name] = inp.value;
        continue;
      }
      const src = results.get(inp.from)!;
      let v = src.values[inp.slot];
      if (inp.coerce === 'int-to-float') v = Array.isArray(v) && src.isList[inp.slot] ? v.map(Number) : Number(v);
      if (src.isList[inp.slot] && Array.isArray(v)) {
        lists[name] = v;
        anyList = true;
        n = Math.max(n, v.length);
      } else single[name] = v;
    }
    for (const [name, kind] of Object.entries(def.hidden)) {
      single[name] = kind === 'PROMPT' ? plan.workflow : kind === 'EXTRA_PNGINFO' ? plan.extraPngInfo : node.id;
    }
    if (def.inputIsList) {
      const args: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(single)) args[k] = k in def.hidden ? v : [v];
      Object.assign(args, lists);
      return collect(def, [await invoke(def, ctx, args)], false);
    }
    if (!anyList) return collect(def, [await invoke(def, ctx, single)], false);
    const runs: Record<string, unknown>[] = [];
    for (let i = 0; i < n; i++) {
      const args: Record<string, unknown> = { ...single };
      for (const [k, l] of Object.entries(lists)) args[k] = l[Math.min(i, l.length - 1)];
      runs.push(await invoke(def, ctx, args));
    }
    return collect(def, runs, true);
  }

  async function invoke(def: NodeDefinition, ctx: NodeContext, args: Record<string, unknown>): Promise<Record<string, unknown>> {
    try {
      const r = await def.run(ctx, args);
      for (const o of def.outputs) {
        const v = r[o.name];
        if (v === undefined) throw new TypeError(`returned no value for output '${o.name}'`);
        if (o.list ? !Array.isArray(v) || !v.every((x) => o.socket.guard(x)) : !o.socket.guard(v)) {
          throw new TypeError(`output '${o.name}' is not a ${o.socket.id}${o.list ? ' list' : ''}`);
        }
      }
      return r;
    } catch (e) {
      if (isAbortError(e) || ctx.signal.aborted) throw e instanceof InterruptedError ? e : new InterruptedError();
      throw new NodeExecutionError(ctx.nodeId, def.type, e);
    }
  }

  function collect(def: NodeDefinition, runs: Record<string, unknown>[], mapped: boolean): CachedOutputs {
    const values = def.outputs.map((o) => {
      if (!mapped) return runs[0]![o.name];
      return o.list ? runs.flatMap((r) => r[o.name] as unknown[]) : runs.map((r) => r[o.name]);
    });
    const isList = def.outputs.map((o) => mapped || o.list);
    let ui: UiOutput | undefined;
    for (const r of runs) {
      const u = r.ui as UiOutput | undefined;
      if (!u) continue;
      ui ??= {};
      for (const [k, v] of Object.entries(u)) (ui[k] ??= []).push(...v);
    }
    return { values, isList, ui };
  }

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
