import type { ApiWorkflow } from '../../../engine/workflow.js';
import { isLink } from '../../../engine/workflow.js';
import type { LastRun } from '../graph/stale.js';

export type NodeStatus = 'pending' | 'running' | 'cached' | 'done' | 'error' | 'interrupted';

export interface ImageRef {
  readonly filename: string;
  readonly subfolder: string;
  readonly type: string;
}

/** Live state of one node, kept apart from the graph so a progress tick re-renders one node only. */
export interface NodeExec {
  readonly status?: NodeStatus;
  readonly value?: number;
  readonly max?: number;
  readonly startedAt?: number;
  readonly durationMs?: number;
  readonly error?: string;
  /** Object URL of the latest latent preview frame. */
  readonly preview?: string;
  readonly images?: readonly ImageRef[];
  /** Validation problems by input name ("" for the node), from the editor or the server. */
  readonly issues?: Readonly<Record<string, string>>;
  /** Queuing now would run this node again (graph/stale.ts). */
  readonly stale?: boolean;
  /** Inferred output shapes, one per output (null: unknown before running). */
  readonly shapes?: readonly (readonly number[] | null)[];
}

export interface ExecState {
  readonly nodes: ReadonlyMap<string, NodeExec>;
  readonly promptId?: string;
  /** The node that last reported progress: binary preview frames carry no node id. */
  readonly previewNode?: string;
  readonly queueRemaining: number;
  readonly message?: string;
  /** The last prompt of this client that finished successfully, for the stale marks. */
  readonly lastRun?: LastRun;
}

export const EMPTY_EXEC: ExecState = { nodes: new Map(), queueRemaining: 0 };

export type ExecAction =
  | { kind: 'ws'; type: string; data: Record<string, unknown> }
  | { kind: 'preview'; url: string }
  | { kind: 'issues'; issues: ReadonlyMap<string, Readonly<Record<string, string>>>; message?: string }
  | { kind: 'clear-issues' }
  | { kind: 'stale'; ids: ReadonlySet<string> }
  /** Output shapes of every node, as the server inferred them for the current graph. */
  | { kind: 'shapes'; shapes: Readonly<Record<string, readonly (readonly number[] | null)[]>> }
  /** The user edited a field: its problem is stale until the next check. */
  | { kind: 'clear-issue'; node: string; input: string };

function sameShapes(a: NodeExec['shapes'], b: NodeExec['shapes']): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  return a.every((s, i) => {
    const t = b[i];
    return s === t || (s !== null && t !== null && t !== undefined && s.length === t.length && s.every((d, k) => d === t[k]));
  });
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}

function readImages(output: unknown): ImageRef[] | undefined {
  if (output === null || typeof output !== 'object' || !('images' in output) || !Array.isArray(output.images)) return undefined;
  const out: ImageRef[] = [];
  for (const im of output.images) {
    if (im === null || typeof im !== 'object') continue;
    const filename = str(im.filename);
    if (!filename) continue;
    out.push({ filename, subfolder: str(im.subfolder) ?? '', type: str(im.type) ?? 'output' });
  }
  return out;
}

/** Ids of every ancestor of `id` in a prompt. */
function ancestors(prompt: ApiWorkflow | undefined, id: string): Set<string> | undefined {
  if (!prompt) return undefined;
  const seen = new Set<string>();
  const stack = [id];
  while (stack.length) {
    const cur = prompt[stack.pop()!];
    if (!cur) continue;
    for (const v of Object.values(cur.inputs)) {
      if (isLink(v) && !seen.has(v[0])) {
        seen.add(v[0]);
        stack.push(v[0]);
      }
    }
  }
  return seen;
}

function finish(e: NodeExec, now: number): NodeExec {
  return { ...e, status: 'done', durationMs: e.startedAt !== undefined ? now - e.startedAt : e.durationMs };
}

/**
 * Folds one WebSocket message (spec/api.md) into the per-node state. `prompts` maps prompt ids
 * to the graphs this client queued: a node is done once a node that depends on it starts.
 */
export function reduceExec(state: ExecState, action: ExecAction, now: number, prompts: ReadonlyMap<string, ApiWorkflow>): ExecState {
  const nodes = new Map(state.nodes);
  const patch = (id: string, f: (e: NodeExec) => NodeExec): void => void nodes.set(id, f(nodes.get(id) ?? {}));
  const finishRunning = (keep?: (id: string) => boolean): void => {
    for (const [id, e] of nodes) if (e.status === 'running' && !(keep?.(id) ?? false)) nodes.set(id, finish(e, now));
  };
  if (action.kind === 'preview') {
    const target = state.previewNode;
    if (!target) return state;
    patch(target, (e) => ({ ...e, preview: action.url }));
    return { ...state, nodes };
  }
  if (action.kind === 'issues') {
    for (const [id, e] of nodes) if (e.issues) nodes.set(id, { ...e, issues: undefined });
    for (const [id, issues] of action.issues) patch(id, (e) => ({ ...e, issues }));
    return { ...state, nodes, message: action.message };
  }
  if (action.kind === 'clear-issue') {
    const e = nodes.get(action.node);
    if (!e?.issues || !(action.input in e.issues)) return state;
    const { [action.input]: _gone, ...rest } = e.issues;
    nodes.set(action.node, { ...e, issues: Object.keys(rest).length ? rest : undefined });
    return { ...state, nodes };
  }
  if (action.kind === 'stale') {
    let changed = false;
    for (const [id, e] of nodes) {
      if (e.stale && !action.ids.has(id)) {
        nodes.set(id, { ...e, stale: undefined });
        changed = true;
      }
    }
    for (const id of action.ids) {
      if (nodes.get(id)?.stale) continue;
      patch(id, (e) => ({ ...e, stale: true }));
      changed = true;
    }
    return changed ? { ...state, nodes } : state;
  }
  if (action.kind === 'shapes') {
    let changed = false;
    const ids = new Set([...nodes.keys(), ...Object.keys(action.shapes)]);
    for (const id of ids) {
      const next = Object.hasOwn(action.shapes, id) ? action.shapes[id] : undefined;
      const e = nodes.get(id);
      if (sameShapes(e?.shapes, next)) continue;
      patch(id, (x) => ({ ...x, shapes: next }));
      changed = true;
    }
    return changed ? { ...state, nodes } : state;
  }
  if (action.kind === 'clear-issues') {
    for (const [id, e] of nodes) if (e.issues || e.status === 'error') nodes.set(id, { ...e, issues: undefined, error: undefined, status: e.status === 'error' ? undefined : e.status });
    return { ...state, nodes, message: undefined };
  }
  const d = action.data;
  const promptId = str(d.prompt_id);
  switch (action.type) {
    case 'status': {
      const info = d.status;
      const q = info && typeof info === 'object' && 'exec_info' in info ? info.exec_info : undefined;
      const remaining = q && typeof q === 'object' && 'queue_remaining' in q && typeof q.queue_remaining === 'number' ? q.queue_remaining : state.queueRemaining;
      return { ...state, queueRemaining: remaining };
    }
    case 'execution_start': {
      const prompt = promptId ? prompts.get(promptId) : undefined;
      for (const [id, e] of nodes) nodes.set(id, { images: e.images, preview: e.preview, durationMs: e.durationMs, stale: e.stale });
      for (const id of Object.keys(prompt ?? {})) patch(id, (e) => ({ ...e, status: 'pending', error: undefined }));
      return { ...state, nodes, promptId, previewNode: undefined, message: undefined };
    }
    case 'execution_cached': {
      const ids = Array.isArray(d.nodes) ? d.nodes.map(str).filter((s): s is string => s !== undefined) : [];
      for (const id of ids) patch(id, (e) => ({ ...e, status: 'cached', value: undefined, max: undefined }));
      return { ...state, nodes };
    }
    case 'executing': {
      const id = str(d.node);
      if (id === undefined) {
        finishRunning();
        return { ...state, nodes, previewNode: undefined };
      }
      const up = ancestors(promptId ? prompts.get(promptId) : undefined, id);
      // Without the prompt's graph, nodes are taken to run one after another.
      finishRunning(up ? (other) => !up.has(other) : undefined);
      patch(id, (e) => ({ ...e, status: 'running', startedAt: now, value: undefined, max: undefined, error: undefined }));
      return { ...state, nodes, previewNode: id };
    }
    case 'progress': {
      const id = str(d.node) ?? state.previewNode;
      if (id === undefined) return state;
      const value = typeof d.value === 'number' ? d.value : undefined;
      const max = typeof d.max === 'number' ? d.max : undefined;
      patch(id, (e) => ({ ...e, status: 'running', startedAt: e.startedAt ?? now, value, max }));
      return { ...state, nodes, previewNode: id };
    }
    case 'executed': {
      const id = str(d.node);
      if (id === undefined) return state;
      const images = readImages(d.output);
      patch(id, (e) => ({ ...finish(e, now), ...(images ? { images } : {}) }));
      return { ...state, nodes };
    }
    case 'execution_success': {
      finishRunning();
      // Left pending: not needed, since what they feed came from the cache.
      for (const [id, e] of nodes) if (e.status === 'pending') nodes.set(id, { ...e, status: undefined });
      const id = promptId ?? state.promptId;
      const prompt = id !== undefined ? prompts.get(id) : undefined;
      if (!prompt) return { ...state, nodes, previewNode: undefined };
      // The server reports neither run nor cache hit for what feeds a cache hit: its results were
      // there, so it counts as having run.
      const ran = new Set<string>();
      for (const n of Object.keys(prompt)) {
        const st = nodes.get(n)?.status;
        if (st !== 'done' && st !== 'cached') continue;
        ran.add(n);
        for (const up of ancestors(prompt, n)!) ran.add(up);
      }
      return { ...state, nodes, previewNode: undefined, lastRun: { prompt, ran } };
    }
    case 'execution_error': {
      const id = str(d.node_id);
      const msg = `${str(d.exception_type) ?? 'Error'}: ${str(d.exception_message) ?? ''}`.trim();
      for (const [nid, e] of nodes) if (e.status === 'running' || e.status === 'pending') nodes.set(nid, { ...e, status: undefined });
      if (id !== undefined) patch(id, (e) => ({ ...e, status: 'error', error: msg }));
      return { ...state, nodes, previewNode: undefined, message: `node ${id ?? '?'} failed: ${msg}` };
    }
    case 'execution_interrupted': {
      const id = str(d.node_id);
      for (const [nid, e] of nodes) if (e.status === 'running' || e.status === 'pending') nodes.set(nid, { ...e, status: undefined });
      if (id !== undefined) patch(id, (e) => ({ ...e, status: 'interrupted' }));
      return { ...state, nodes, previewNode: undefined, message: 'interrupted' };
    }
    default:
      return state;
  }
}
