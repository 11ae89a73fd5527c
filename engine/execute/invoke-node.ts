import type { NodeContext, NodeDefinition, UiOutput } from '../define-node.js';
import type { ApiWorkflow } from '../workflow.js';
import type { ResolvedNode } from '../validate/types.js';
import type { CachedOutputs } from '../cache/output-cache.js';
import { InterruptedError, NodeExecutionError, isAbortError } from '../errors.js';

/**
 * Runs one node: gathers its inputs from upstream results and the hidden values, maps it over list
 * inputs (ComfyUI OUTPUT_IS_LIST / INPUT_IS_LIST), checks its outputs against their sockets.
 */
export async function invokeNode(
  def: NodeDefinition,
  node: ResolvedNode,
  ctx: NodeContext,
  results: ReadonlyMap<string, CachedOutputs>,
  hidden: { workflow: ApiWorkflow; extraPngInfo?: Record<string, unknown> },
): Promise<CachedOutputs> {
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
    single[name] = kind === 'PROMPT' ? hidden.workflow : kind === 'EXTRA_PNGINFO' ? hidden.extraPngInfo : node.id;
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
