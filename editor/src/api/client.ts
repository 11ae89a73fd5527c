import { parseJson, type JsonValue } from '../../../engine/json.js';
import { stringifyExact } from '../graph/json-text.js';
import type { ApiWorkflow } from '../../../engine/workflow.js';
import type { ObjectInfo } from '../graph/spec.js';
import type { ImageRef } from '../exec/state.js';
import { authHeaders, withTokenParam } from './auth.js';

/** A request the server refused; `body` is the parsed error document when there is one. */
export class ApiRequestError extends Error {
  override name = 'ApiRequestError';
  constructor(message: string, readonly status: number, readonly body: JsonValue | undefined) {
    super(message);
  }
}

/** Every route is also served under /api/ (spec/api.md); the editor uses that prefix. */
const BASE = new URL('api/', new URL('.', document.baseURI)).pathname;

export function apiUrl(path: string): string {
  return BASE + path.replace(/^\//, '');
}

async function request(path: string, init: RequestInit = {}): Promise<JsonValue> {
  const res = await fetch(apiUrl(path), { ...init, headers: { ...(init.headers as Record<string, string> | undefined), ...authHeaders() } });
  const text = await res.text();
  let body: JsonValue | undefined;
  try {
    body = text ? parseJson(text) : null;
  } catch {
    body = undefined;
  }
  if (!res.ok) throw new ApiRequestError(`${init.method ?? 'GET'} ${path}: HTTP ${res.status}`, res.status, body);
  return body ?? null;
}

function postJson(path: string, body: unknown): Promise<JsonValue> {
  // Seeds may exceed 2^53: bigints are written as exact integers.
  return request(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: stringifyExact(body) });
}

function isRecord(v: unknown): v is Record<string, JsonValue> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export async function fetchObjectInfo(): Promise<ObjectInfo> {
  const body = await request('object_info');
  if (!isRecord(body)) throw new ApiRequestError('object_info is not an object', 200, body);
  const out: ObjectInfo = {};
  for (const [type, entry] of Object.entries(body)) {
    // Entries without an output list are not node descriptions; readNodeSpec guards the rest.
    if (isRecord(entry) && Array.isArray(entry.output) && isRecord(entry.input)) out[type] = entry as unknown as ObjectInfo[string];
  }
  return out;
}

export interface QueuedPrompt {
  readonly promptId: string;
  readonly number: number;
}

/**
 * Queues a prompt under `promptId`, chosen by the caller so it can be tracked before the request:
 * a fully cached prompt finishes, and its WebSocket events arrive, before the HTTP response does.
 */
export async function queuePrompt(prompt: ApiWorkflow, clientId: string, workflow: unknown, promptId: string): Promise<QueuedPrompt> {
  const body = await postJson('prompt', { prompt, prompt_id: promptId, client_id: clientId, extra_data: { extra_pnginfo: { workflow } } });
  const id = isRecord(body) ? body.prompt_id : undefined;
  const number = isRecord(body) && typeof body.number === 'number' ? body.number : 0;
  if (typeof id !== 'string') throw new ApiRequestError('POST /prompt returned no prompt_id', 200, body);
  return { promptId: id, number };
}

/** Output shapes per node id (one entry per output, null when unknown) of a prompt, without running it. */
export type PromptShapes = Record<string, (readonly number[] | null)[]>;

export async function fetchShapes(prompt: ApiWorkflow, signal?: AbortSignal): Promise<PromptShapes> {
  const body = await request('latentflow/shapes', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: stringifyExact({ prompt }), signal });
  const shapes = isRecord(body) ? body.shapes : undefined;
  if (!isRecord(shapes)) throw new ApiRequestError('latentflow/shapes returned no shapes', 200, body);
  const out: PromptShapes = {};
  for (const [id, list] of Object.entries(shapes)) {
    if (!Array.isArray(list)) continue;
    out[id] = list.map((s) => (Array.isArray(s) && s.every((d) => typeof d === 'number') ? (s as number[]) : null));
  }
  return out;
}

export function interrupt(): Promise<JsonValue> {
  return postJson('interrupt', {});
}

export function deleteQueued(promptIds: readonly string[]): Promise<JsonValue> {
  return postJson('queue', { delete: promptIds });
}

export function clearQueue(): Promise<JsonValue> {
  return postJson('queue', { clear: true });
}

export function clearHistory(): Promise<JsonValue> {
  return postJson('history', { clear: true });
}

export function fetchQueue(): Promise<JsonValue> {
  return request('queue');
}

export function fetchHistory(maxItems: number): Promise<JsonValue> {
  return request(`history?max_items=${maxItems}`);
}

export async function uploadImage(file: File): Promise<ImageRef> {
  const form = new FormData();
  form.append('image', file, file.name);
  form.append('overwrite', 'true');
  form.append('type', 'input');
  const body = await request('upload/image', { method: 'POST', body: form });
  if (!isRecord(body) || typeof body.name !== 'string') throw new ApiRequestError('upload returned no name', 200, body);
  return { filename: body.name, subfolder: typeof body.subfolder === 'string' ? body.subfolder : '', type: typeof body.type === 'string' ? body.type : 'input' };
}

export function viewUrl(ref: ImageRef, preview = false): string {
  const q = new URLSearchParams({ filename: ref.filename, subfolder: ref.subfolder, type: ref.type });
  if (preview) q.set('preview', 'webp;80');
  const url = withTokenParam(new URL(`${apiUrl('view')}?${q}`, location.href));
  return url.pathname + url.search;
}
