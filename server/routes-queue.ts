import { randomUUID } from 'node:crypto';
import { MODEL_POOL } from '../runtime/services.js';
import type { Engine, JsonValue } from '../engine/index.js';
import type { JobStore } from './store.js';
import type { JobRunner } from './runner.js';
import { queueItem, TERMINAL } from './store.js';
import { HttpError, stringList } from './http-util.js';
import { checkMemory } from '../host/memory-admission.js';
import { JsonText, jsonObjectText, type JsonTextCache } from './json-text-cache.js';
import type { RowKey } from './store.js';

export interface QueueContext {
  engine: Engine;
  store: JobStore;
  runner: JobRunner;
  /** Serialized queue items and history entries (immutable once written). */
  json: JsonTextCache;
}

/** ComfyUI's 400 body for POST /prompt. */
function promptError(type: string, message: string, details = ''): HttpError {
  return new HttpError(400, message, { error: { type, message, details, extra_info: {} }, node_errors: {} });
}

function isObject(v: JsonValue | undefined): v is Record<string, JsonValue> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** POST /prompt: validate, commit, then acknowledge `{prompt_id, number, node_errors}`. */
export async function submitPrompt(ctx: QueueContext, body: Record<string, JsonValue>): Promise<{ prompt_id: string; number: number; node_errors: unknown }> {
  if (!('prompt' in body)) throw promptError('no_prompt', 'No prompt provided', 'No prompt provided');
  const prompt = body.prompt;
  if (!isObject(prompt)) throw promptError('invalid_prompt', 'Invalid prompt: the prompt must be an object of nodes');
  let number: number | undefined;
  if (body.number !== undefined && body.number !== null) {
    const n = typeof body.number === 'bigint' ? Number(body.number) : typeof body.number === 'string' ? Number(body.number) : body.number;
    if (typeof n !== 'number' || !Number.isFinite(n)) throw promptError('invalid_prompt', 'number must be a number');
    number = n;
  }
  let promptId: string = randomUUID();
  if (body.prompt_id !== undefined && body.prompt_id !== null) {
    const raw = body.prompt_id;
    if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'bigint') throw promptError('invalid_prompt', 'prompt_id must be a string');
    promptId = String(raw);
    if (!/^[^\x00-\x1f]{1,128}$/.test(promptId)) throw promptError('invalid_prompt', 'prompt_id must be 1 to 128 printable characters');
  }
  const clientId = body.client_id;
  if (clientId !== undefined && clientId !== null && typeof clientId !== 'string') throw promptError('invalid_prompt', 'client_id must be a string');
  const extra = body.extra_data;
  if (extra !== undefined && extra !== null && !isObject(extra)) throw promptError('invalid_prompt', 'extra_data must be an object');
  let targets: string[] | undefined;
  try {
    targets = stringList(body.partial_execution_targets, 'partial_execution_targets');
  } catch (e) {
    throw promptError('invalid_prompt', e instanceof Error ? e.message : String(e));
  }

  const v = ctx.engine.validate(prompt, { targets });
  if (!v.ok) throw new HttpError(400, v.error?.message ?? 'invalid prompt', { error: v.error, node_errors: v.node_errors });
  const refused = await checkMemory(ctx.engine, prompt, v);
  if (refused) throw new HttpError(400, refused.error.message, { error: refused.error, node_errors: { ...v.node_errors, ...refused.nodeErrors } });
  const extraData: Record<string, JsonValue> = { ...(isObject(extra) ? extra : {}) };
  if (typeof clientId === 'string') extraData.client_id = clientId;
  const job = ctx.store.add({
    id: promptId,
    number,
    front: body.front === true,
    prompt,
    extraData,
    outputsToExecute: v.outputs,
    clientId: typeof clientId === 'string' ? clientId : null,
  });
  // Acknowledged only once the prompt survives power loss.
  await ctx.store.durable();
  ctx.runner.queueChanged();
  return { prompt_id: job.id, number: job.number, node_errors: v.node_errors };
}

function queueItemTexts(ctx: QueueContext, keys: readonly RowKey[]): string {
  const texts: string[] = [];
  for (const k of keys) {
    const t = ctx.json.get(`q\0${k.seq}`, () => {
      const job = ctx.store.bySeq(k.seq);
      return job && queueItem(job);
    });
    if (t !== undefined) texts.push(t);
  }
  return `[${texts.join(',')}]`;
}

/** GET /queue `{queue_running, queue_pending}`, from cached queue items (a prompt never changes once stored). */
export function getQueue(ctx: QueueContext): JsonText {
  const { running, pending } = ctx.store.activeKeys();
  return new JsonText(`{"queue_running":${queueItemTexts(ctx, running)},"queue_pending":${queueItemTexts(ctx, pending)}}`);
}

/** POST /queue `{clear?, delete?}`: removes pending prompts (use /interrupt for the running one). */
export function editQueue(ctx: QueueContext, body: Record<string, JsonValue>): void {
  const del = stringList(body.delete, 'delete');
  let changed = 0;
  if (body.clear === true) changed += ctx.store.deletePending();
  if (del) changed += ctx.store.deletePending(del);
  if (changed) ctx.runner.queueChanged();
}

/** GET /history, from cached entries (an entry never changes once its job finished; `seq` is per finish). */
export function getHistory(ctx: QueueContext, maxItems: number | undefined, offset: number | undefined): JsonText {
  const entries: [string, string][] = [];
  for (const { id, seq } of ctx.store.historyKeys(maxItems, offset ?? -1)) {
    const t = ctx.json.get(`h\0${seq}\0${id}`, () => ctx.store.historyEntry(id));
    if (t !== undefined) entries.push([id, t]);
  }
  return new JsonText(jsonObjectText(entries));
}

export function getHistoryItem(ctx: QueueContext, id: string): Record<string, unknown> {
  const e = ctx.store.historyEntry(id);
  return e ? { [id]: e } : {};
}

export function editHistory(ctx: QueueContext, body: Record<string, JsonValue>): void {
  const del = stringList(body.delete, 'delete');
  if (body.clear === true) ctx.store.deleteHistory();
  if (del) ctx.store.deleteHistory(del);
}

export function interrupt(ctx: QueueContext, body: Record<string, JsonValue>): void {
  const id = body.prompt_id;
  if (id !== undefined && id !== null && typeof id !== 'string') throw new HttpError(400, 'prompt_id must be a string');
  ctx.runner.interrupt(typeof id === 'string' ? id : undefined);
}

/**
 * POST /free: `free_memory` drops cached node outputs; `unload_models` also closes every idle ONNX session
 * (a session with a run in flight stays; an evicted one reloads on its next use).
 */
export async function free(ctx: QueueContext, body: Record<string, JsonValue>): Promise<void> {
  if (body.unload_models === true || body.free_memory === true) ctx.engine.cache.clear();
  if (body.unload_models === true) await ctx.engine.services.tryGet(MODEL_POOL)?.evictAll();
}

/** GET /api/jobs/{id}: the job's state, 404 when the id was never accepted (or was deleted). */
export function jobStatus(ctx: QueueContext, id: string): Record<string, unknown> {
  const job = ctx.store.get(id);
  if (!job) throw new HttpError(404, `unknown prompt id '${id}'`, { error: { type: 'not_found', message: `unknown prompt id '${id}'` } });
  const out: Record<string, unknown> = { prompt_id: job.id, status: job.status, number: job.number, attempts: job.attempts, created_at: job.createdAt };
  if (TERMINAL.includes(job.status)) {
    const h = ctx.store.historyEntry(id);
    if (h) {
      out.outputs = h.outputs;
      const err = h.status.messages.find((m) => m[0] === 'execution_error');
      if (err) out.error = err[1];
    }
  }
  if (job.status === 'pending') out.position = ctx.store.pending().findIndex((j) => j.id === id);
  return out;
}
