import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { Engine } from '../engine/index.js';
import { MODEL_POOL, type Folders } from '../runtime/services.js';
import type { JobStore } from './store.js';
import type { JobRunner } from './runner.js';
import type { WsHub } from './ws-hub.js';
import { HttpError, intParam, readJsonObject, sendJson, sendJsonText } from './http-util.js';
import { JsonText } from './json-text-cache.js';
import { hostAllowed, originAllowed, tokenAllowed } from './security.js';
import { editHistory, editQueue, free, getHistory, getHistoryItem, getQueue, interrupt, jobStatus, submitPrompt, type QueueContext } from './routes-queue.js';
import { handleView } from './routes-view.js';
import { handleUpload } from './routes-upload.js';
import { embeddings, modelFolders, modelsIn, systemStats } from './routes-info.js';
import { serveStatic } from './static.js';
import { serverFeatures } from './ws-hub.js';

export interface AppContext extends QueueContext {
  engine: Engine;
  store: JobStore;
  runner: JobRunner;
  hub: WsHub;
  folders: Folders;
  token?: string;
  /** True when bound to loopback without a token: then Host must be a loopback name (DNS rebinding). */
  loopbackOnly: boolean;
  maxUploadBytes: number;
  editorDir: string;
  log: (message: string) => void;
}

type Route = (ctx: AppContext, req: IncomingMessage, res: ServerResponse, url: URL, param: string) => Promise<unknown>;
const NO_BODY = Symbol('no body');

function decodeParam(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new HttpError(400, 'bad percent-encoding');
  }
}

/** A negative `max_items` is 400 (ComfyUI silently answers `{}`); a negative `offset` means "from the end", ComfyUI's default -1. */
function historyParam(q: URLSearchParams, name: string): number | undefined {
  const n = intParam(q, name);
  if (n !== undefined && n < 0) throw new HttpError(400, `${name} must be a non-negative integer`);
  return n;
}

/** Exact routes by `METHOD path`; a route's return value is sent as JSON unless it is NO_BODY. */
const ROUTES: Record<string, Route> = {
  'GET /prompt': async (ctx) => ctx.runner.statusData().status,
  'POST /prompt': async (ctx, req) => submitPrompt(ctx, await readJsonObject(req)),
  'GET /queue': async (ctx) => getQueue(ctx),
  'POST /queue': async (ctx, req) => (editQueue(ctx, await readJsonObject(req)), NO_BODY),
  'GET /history': async (ctx, _req, _res, url) => getHistory(ctx, historyParam(url.searchParams, 'max_items'), intParam(url.searchParams, 'offset')),
  'POST /history': async (ctx, req) => (editHistory(ctx, await readJsonObject(req)), NO_BODY),
  'POST /interrupt': async (ctx, req) => (interrupt(ctx, await readJsonObject(req)), NO_BODY),
  'POST /free': async (ctx, req) => (await free(ctx, await readJsonObject(req)), NO_BODY),
  'GET /object_info': async (ctx) => ctx.engine.objectInfo(),
  'GET /system_stats': async (ctx) => systemStats(ctx.engine.services.tryGet(MODEL_POOL)?.device),
  'GET /embeddings': async (ctx) => embeddings(ctx.folders),
  'GET /models': async (ctx) => modelFolders(ctx.folders),
  'GET /extensions': async () => [],
  'GET /features': async (ctx) => serverFeatures(ctx.maxUploadBytes),
  'GET /view': async (ctx, _req, res, url) => (await handleView(url.searchParams, ctx.folders, res), NO_BODY),
  'POST /upload/image': async (ctx, req) => handleUpload(req, ctx.folders, ctx.maxUploadBytes, false),
  'POST /upload/mask': async (ctx, req) => handleUpload(req, ctx.folders, ctx.maxUploadBytes, true),
  // latentflow's own: output shapes of a (possibly incomplete) prompt without running it.
  'POST /latentflow/shapes': async (ctx, req) => {
    const body = await readJsonObject(req);
    if (!('prompt' in body)) throw new HttpError(400, "the body needs a 'prompt' (API format)");
    return { shapes: await ctx.engine.inferShapes(body.prompt) };
  },
};

/** Routes with one trailing path parameter. */
const PARAM_ROUTES: [string, string, Route][] = [
  ['GET', '/history/', async (ctx, _q, _r, _u, id) => getHistoryItem(ctx, id)],
  ['GET', '/object_info/', async (ctx, _q, _r, _u, type) => (ctx.engine.objectInfoFor(type) ? { [type]: ctx.engine.objectInfoFor(type) } : {})],
  ['GET', '/models/', async (ctx, _q, _r, _u, folder) => modelsIn(ctx.folders, folder)],
  ['GET', '/jobs/', async (ctx, _q, _r, _u, id) => jobStatus(ctx, id)],
];

function findRoute(method: string, path: string): { route: Route; param: string } | 'wrong-method' | undefined {
  const exact = ROUTES[`${method} ${path}`];
  if (exact) return { route: exact, param: '' };
  for (const [m, prefix, route] of PARAM_ROUTES) {
    if (path.startsWith(prefix) && path.length > prefix.length && !path.slice(prefix.length).includes('/')) {
      if (m !== method) return 'wrong-method';
      return { route, param: decodeParam(path.slice(prefix.length)) };
    }
  }
  if (ROUTES[`GET ${path}`] || ROUTES[`POST ${path}`]) return 'wrong-method';
  return undefined;
}

/** The API path of a request: every route is served at `/` and under `/api/`. */
export function apiPath(pathname: string): string {
  return pathname === '/api' ? '/' : pathname.startsWith('/api/') ? pathname.slice(4) : pathname;
}

function parseUrl(req: IncomingMessage): URL {
  try {
    return new URL(req.url ?? '/', 'http://localhost');
  } catch {
    throw new HttpError(400, 'bad request URL');
  }
}

/** One HTTP request; every failure becomes a JSON error response, never a crash. */
export async function handleRequest(ctx: AppContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const url = parseUrl(req);
    const method = req.method ?? 'GET';
    const path = apiPath(url.pathname);
    if (!hostAllowed(req, ctx.loopbackOnly)) throw new HttpError(403, 'Host header is not a loopback name');
    const found = findRoute(method, path);
    if (found === undefined && method === 'GET') return await serveStatic(ctx.editorDir, url.pathname, res);
    if (!tokenAllowed(req, ctx.token, path === '/view' ? url.searchParams.get('token') : null)) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      throw new HttpError(401, 'a bearer token is required');
    }
    if (method !== 'GET' && method !== 'HEAD' && !originAllowed(req)) throw new HttpError(403, 'cross-origin request refused');
    if (found === undefined) throw new HttpError(404, 'not found');
    if (found === 'wrong-method') throw new HttpError(405, 'method not allowed');
    const out = await found.route(ctx, req, res, url, found.param);
    if (out instanceof JsonText) sendJsonText(res, 200, out.text);
    else if (out !== NO_BODY) sendJson(res, 200, out);
    else if (!res.headersSent) res.writeHead(200).end();
  } catch (e) {
    if (!(e instanceof HttpError)) ctx.log(`request ${req.method} ${req.url} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    if (res.headersSent) return void res.destroy();
    const status = e instanceof HttpError ? e.status : 500;
    // NOTE: only HttpError messages are meant for clients; anything else may carry server paths.
    const message = e instanceof HttpError ? withoutPaths(e.message) : 'internal server error (details are in the server log)';
    const onPrompt = apiPath(req.url?.split('?')[0] ?? '') === '/prompt';
    const error = { type: status === 500 ? 'internal_error' : onPrompt ? 'invalid_prompt' : 'bad_request', message, details: '', extra_info: {} };
    // POST /prompt errors keep ComfyUI's `{error, node_errors}` shape, whatever went wrong.
    const body = e instanceof HttpError && e.body !== undefined ? e.body : onPrompt ? { error, node_errors: {} } : { error };
    // NOTE: a body we did not read must be drained, or the client may see a reset instead of the status.
    if (!req.complete) req.resume();
    sendJson(res, status, body);
  }
}

/** A client-facing message with absolute paths replaced, so no error shows the server's folders. */
export function withoutPaths(message: string): string {
  return message.replace(/(^|[\s'"`(=:,[])\/[^\s'"`)\],:]+/g, '$1<path>');
}

function reject(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** WebSocket upgrades on `/ws` and `/api/ws`: token (header or `?token=`), Origin and Host checked first. */
export function createUpgradeHandler(ctx: AppContext): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  // NOTE: clients only send small control messages; 64 KiB bounds a hostile frame.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  return (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    let url: URL;
    try {
      url = parseUrl(req);
    } catch {
      return reject(socket, 400, 'Bad Request');
    }
    if (apiPath(url.pathname) !== '/ws') return reject(socket, 404, 'Not Found');
    if (!hostAllowed(req, ctx.loopbackOnly)) return reject(socket, 403, 'Forbidden');
    if (!tokenAllowed(req, ctx.token, url.searchParams.get('token'))) return reject(socket, 401, 'Unauthorized');
    if (!originAllowed(req)) return reject(socket, 403, 'Forbidden');
    wss.handleUpgrade(req, socket, head, (ws) => {
      ctx.hub.attach(ws, url.searchParams.get('clientId'), (sid) => {
        ws.send(JSON.stringify({ type: 'status', data: { ...ctx.runner.statusData(), sid } }));
        for (const cur of ctx.runner.runningJobs()) {
          if (cur.clientId !== sid || cur.node === null) continue;
          ws.send(JSON.stringify({ type: 'executing', data: { node: cur.node, display_node: cur.node, prompt_id: cur.promptId } }));
        }
      });
    });
  };
}
