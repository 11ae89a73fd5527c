import { createHash } from 'node:crypto';
import { checkStructure, parseJson, stringifyJson, type ApiWorkflow, type EngineEvent, type JsonValue, type UiOutput } from '../engine/index.js';

/** The BullMQ queue every latentflow worker takes jobs from unless told otherwise. */
export const DEFAULT_QUEUE = 'latentflow';
export const PROTOCOL_VERSION = 1;
/** Results whose files total at most this many bytes travel through Redis (base64 in the job's return value). */
export const DEFAULT_INLINE_MAX_BYTES = 8 * 1024 * 1024;

/** A job, a result or an event that does not have the shape this version of latentflow writes. */
export class RemoteProtocolError extends Error {
  override name = 'RemoteProtocolError';
}

/** An input file a job reads: inlined (base64 `data`) or expected on the worker's shared input folder. */
export interface InputFileRef {
  readonly name: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly data?: string;
}

/** A BullMQ job's data: a fully resolved API-format workflow and everything needed to run it elsewhere. */
export interface RemoteJobData {
  readonly v: typeof PROTOCOL_VERSION;
  /** `batch`: CLI batch naming and cache rules; `prompt`: a server prompt. */
  readonly kind: 'batch' | 'prompt';
  /** Put in output file names (`{prefix}_{tag}_{node}_{NN}.png`), so a re-run replaces its own files. */
  readonly fileTag: string;
  readonly promptId: string;
  /** `stringifyJson` of the workflow (seeds may be 64-bit integers). */
  readonly workflow: string;
  /** `stringifyJson` of ComfyUI's extra_data (extra_pnginfo goes into saved PNGs). */
  readonly extraData: string;
  /** The server's outputs to execute (partial execution); every output when absent. */
  readonly targets?: readonly string[];
  readonly inputs: readonly InputFileRef[];
  readonly inlineMaxBytes: number;
  readonly submittedAt: number;
  /** Render step previews (a batch shows none; a server prompt's client may). Default true. */
  readonly previews?: boolean;
}

/** One file a job produced; `data` (base64) when the job's files were small enough to inline. */
export interface RemoteFile {
  readonly node: string;
  readonly type: 'output' | 'temp';
  readonly subfolder: string;
  readonly filename: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly data?: string;
}

/** A job's BullMQ return value. Engine errors are not results: the job fails (and BullMQ retries it). */
export interface RemoteJobResult {
  readonly v: typeof PROTOCOL_VERSION;
  readonly status: 'success' | 'interrupted';
  /** `stringifyJson` of the UI outputs per node, as stored in history. */
  readonly outputs: string;
  readonly executed: readonly string[];
  readonly cached: readonly string[];
  /** `stringifyJson` of the run's `[type, data]` messages. */
  readonly messages: string;
  readonly files: readonly RemoteFile[];
  readonly worker: string;
  readonly startedAt: number;
  readonly endedAt: number;
}

/** The structured error a worker logs (BullMQ job log) before failing a job. */
export interface RemoteErrorDetail {
  readonly node: string;
  readonly node_type: string;
  readonly type: string;
  readonly message: string;
}

/** What travels on a job's pub/sub channel. */
export type RemoteEvent =
  | { readonly kind: 'start'; readonly worker: string; readonly attempt: number; readonly at: number }
  | { readonly kind: 'engine'; readonly worker: string; readonly event: EngineEvent; readonly previewJpeg?: string };

export const ERROR_LOG_PREFIX = 'latentflow-error ';

/** BullMQ ids may not contain ':' nor be integers: ids are a kind letter and a hash or hex id. */
export function bullJobId(kind: RemoteJobData['kind'], id: string): string {
  if (kind === 'batch' && /^[0-9a-f]{8,64}$/.test(id)) return `b-${id}`;
  return `${kind === 'batch' ? 'b' : 'p'}-${createHash('sha256').update(id).digest('hex').slice(0, 32)}`;
}

export function eventChannel(prefix: string, queue: string, jobId: string): string {
  return `${prefix}:${queue}:lf:events:${jobId}`;
}

export function cancelChannel(prefix: string, queue: string): string {
  return `${prefix}:${queue}:lf:cancel`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(o: Record<string, unknown>, k: string): string {
  const v = o[k];
  if (typeof v !== 'string') throw new RemoteProtocolError(`'${k}' must be a string`);
  return v;
}

function num(o: Record<string, unknown>, k: string): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new RemoteProtocolError(`'${k}' must be a number`);
  return v;
}

function strings(o: Record<string, unknown>, k: string): string[] {
  const v = o[k];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new RemoteProtocolError(`'${k}' must be a list of strings`);
  return v;
}

function version(o: Record<string, unknown>): typeof PROTOCOL_VERSION {
  if (o.v !== PROTOCOL_VERSION) throw new RemoteProtocolError(`protocol version ${String(o.v)}; this latentflow speaks ${PROTOCOL_VERSION}`);
  return PROTOCOL_VERSION;
}

/** Checks a job's data as read from Redis (any process may have written it). */
export function decodeJobData(raw: unknown): RemoteJobData {
  if (!isRecord(raw)) throw new RemoteProtocolError('job data must be an object');
  const kind = raw.kind;
  if (kind !== 'batch' && kind !== 'prompt') throw new RemoteProtocolError(`unknown job kind '${String(kind)}'`);
  const inputsRaw = raw.inputs;
  if (!Array.isArray(inputsRaw)) throw new RemoteProtocolError("'inputs' must be a list");
  const inputs: InputFileRef[] = inputsRaw.map((i) => {
    if (!isRecord(i)) throw new RemoteProtocolError('an input must be an object');
    const data = i.data;
    if (data !== undefined && typeof data !== 'string') throw new RemoteProtocolError("an input's 'data' must be base64 text");
    return { name: str(i, 'name'), sha256: str(i, 'sha256'), bytes: num(i, 'bytes'), data };
  });
  return {
    v: version(raw),
    kind,
    fileTag: str(raw, 'fileTag'),
    promptId: str(raw, 'promptId'),
    workflow: str(raw, 'workflow'),
    extraData: str(raw, 'extraData'),
    targets: raw.targets === undefined ? undefined : strings(raw, 'targets'),
    inputs,
    inlineMaxBytes: num(raw, 'inlineMaxBytes'),
    submittedAt: num(raw, 'submittedAt'),
    previews: typeof raw.previews === 'boolean' ? raw.previews : undefined,
  };
}

export function decodeResult(raw: unknown): RemoteJobResult {
  if (!isRecord(raw)) throw new RemoteProtocolError('a job result must be an object');
  const status = raw.status;
  if (status !== 'success' && status !== 'interrupted') throw new RemoteProtocolError(`unknown result status '${String(status)}'`);
  const filesRaw = raw.files;
  if (!Array.isArray(filesRaw)) throw new RemoteProtocolError("'files' must be a list");
  const files: RemoteFile[] = filesRaw.map((f) => {
    if (!isRecord(f)) throw new RemoteProtocolError('a file must be an object');
    const type = f.type;
    if (type !== 'output' && type !== 'temp') throw new RemoteProtocolError(`unknown file type '${String(type)}'`);
    const data = f.data;
    if (data !== undefined && typeof data !== 'string') throw new RemoteProtocolError("a file's 'data' must be base64 text");
    return { node: str(f, 'node'), type, subfolder: str(f, 'subfolder'), filename: str(f, 'filename'), sha256: str(f, 'sha256'), bytes: num(f, 'bytes'), data };
  });
  return {
    v: version(raw),
    status,
    outputs: str(raw, 'outputs'),
    executed: strings(raw, 'executed'),
    cached: strings(raw, 'cached'),
    messages: str(raw, 'messages'),
    files,
    worker: str(raw, 'worker'),
    startedAt: num(raw, 'startedAt'),
    endedAt: num(raw, 'endedAt'),
  };
}

const ENGINE_EVENT_TYPES = new Set(['execution_start', 'execution_cached', 'executing', 'progress', 'executed', 'execution_success', 'execution_error', 'execution_interrupted']);

function isEngineEvent(v: JsonValue | undefined): v is EngineEvent & JsonValue {
  return isRecord(v) && typeof v.type === 'string' && ENGINE_EVENT_TYPES.has(v.type) && isRecord(v.data);
}

export function encodeEvent(ev: RemoteEvent): string {
  if (ev.kind === 'start') return stringifyJson(ev);
  // The preview's bytes travel as base64 JPEG beside the event, not inside it.
  const event = ev.event.type === 'progress' ? { type: ev.event.type, data: ev.event.data } : ev.event;
  return stringifyJson({ kind: ev.kind, worker: ev.worker, event, previewJpeg: ev.previewJpeg });
}

export function decodeEvent(text: string): RemoteEvent {
  const v = parseJson(text);
  if (!isRecord(v)) throw new RemoteProtocolError('an event must be an object');
  if (v.kind === 'start') return { kind: 'start', worker: str(v, 'worker'), attempt: num(v, 'attempt'), at: num(v, 'at') };
  if (v.kind !== 'engine') throw new RemoteProtocolError(`unknown event kind '${String(v.kind)}'`);
  const event = v.event;
  if (!isEngineEvent(event)) throw new RemoteProtocolError('not an engine event');
  const preview = v.previewJpeg;
  return { kind: 'engine', worker: str(v, 'worker'), event, previewJpeg: typeof preview === 'string' ? preview : undefined };
}

/** The structured error line a worker writes to the job's log. */
export function encodeErrorLog(e: RemoteErrorDetail): string {
  return `${ERROR_LOG_PREFIX}${JSON.stringify(e)}`;
}

/** The last structured error among a job's log lines, if any. */
export function errorFromLogs(logs: readonly string[]): RemoteErrorDetail | undefined {
  for (let i = logs.length - 1; i >= 0; i--) {
    const line = logs[i]!;
    if (!line.startsWith(ERROR_LOG_PREFIX)) continue;
    try {
      const v: unknown = JSON.parse(line.slice(ERROR_LOG_PREFIX.length));
      if (isRecord(v)) return { node: String(v.node ?? ''), node_type: String(v.node_type ?? ''), type: String(v.type ?? 'Error'), message: String(v.message ?? '') };
    } catch {
      continue;
    }
  }
  return undefined;
}

/** Decodes a result's `outputs` field. */
export function resultOutputs(r: RemoteJobResult): Record<string, UiOutput> {
  const v = parseJson(r.outputs);
  const out: Record<string, UiOutput> = {};
  if (!isRecord(v)) return out;
  for (const [node, ui] of Object.entries(v)) {
    if (!isRecord(ui)) continue;
    const lists: UiOutput = {};
    for (const [k, list] of Object.entries(ui)) if (Array.isArray(list)) lists[k] = list;
    out[node] = lists;
  }
  return out;
}

export function resultMessages(r: RemoteJobResult): [string, unknown][] {
  const v = parseJson(r.messages);
  if (!Array.isArray(v)) return [];
  return v.flatMap((m): [string, unknown][] => (Array.isArray(m) && typeof m[0] === 'string' ? [[m[0], m[1]]] : []));
}

/** Parses and shape-checks a job's workflow text. */
export function jobWorkflow(d: RemoteJobData): ApiWorkflow {
  const shape = checkStructure(parseJson(d.workflow));
  if (!shape.ok) throw new RemoteProtocolError(`the job workflow is malformed: ${shape.issues.map((i) => i.message).join('; ')}`);
  return shape.workflow;
}

export function jobExtraData(d: RemoteJobData): Record<string, JsonValue> {
  const v = parseJson(d.extraData);
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : {};
}
