import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseJson, stringifyJson, type JsonValue } from '../engine/index.js';

/** A request the server refuses, with the HTTP status to answer. */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    readonly body?: unknown,
  ) {
    super(message);
  }
}

/** NOTE: 16 MiB holds any API prompt with its embedded UI workflow; uploads have their own limit. */
export const MAX_JSON_BODY = 16 * 1024 * 1024;

/** Reads the whole body, refusing more than `limit` bytes with 413 (declared or streamed). */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    throw new HttpError(413, `request body larger than ${limit} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buf.length;
    if (size > limit) {
      req.resume();
      throw new HttpError(413, `request body larger than ${limit} bytes`);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

/** A JSON object body (integers beyond 2^53 kept exact); empty body reads as `{}`. */
export async function readJsonObject(req: IncomingMessage, limit = MAX_JSON_BODY): Promise<Record<string, JsonValue>> {
  const text = (await readBody(req, limit)).toString('utf8');
  if (text.trim() === '') return {};
  let v: JsonValue;
  try {
    v = parseJson(text);
  } catch (e) {
    throw new HttpError(400, e instanceof Error ? e.message : 'invalid JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new HttpError(400, 'the request body must be a JSON object');
  return v;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  sendJsonText(res, status, stringifyJson(body));
}

/** A body that is already JSON text. */
export function sendJsonText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, text: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** Streams `file` as the body of a response whose headers are written; resolves when done. */
export function pipeFile(file: string, res: ServerResponse): Promise<void> {
  return new Promise<void>((resolve) => {
    const s = createReadStream(file);
    // The status line is already sent: a read error can only cut the response short.
    s.on('error', () => {
      res.destroy();
      resolve();
    });
    s.on('end', resolve);
    s.pipe(res);
  });
}

/** `["a", "b"]` from a JSON value, or 400. */
export function stringList(v: JsonValue | undefined, what: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new HttpError(400, `${what} must be a list of strings`);
  return v.map(String);
}

/** A non-negative integer query parameter, or 400. */
export function intParam(q: URLSearchParams, name: string): number | undefined {
  const s = q.get(name);
  if (s === null || s === '') return undefined;
  if (!/^-?\d{1,9}$/.test(s)) throw new HttpError(400, `${name} must be an integer`);
  return Number(s);
}
