import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHost, type Host, type HostOptions } from '../host/host.js';
import { JobStore } from './store.js';
import { JobRunner, MAX_ATTEMPTS, poisonRecord } from './runner.js';
import { removeStalePartials } from '../host/job-files.js';
import { WsHub, serverFeatures } from './ws-hub.js';
import { createUpgradeHandler, handleRequest, type AppContext } from './app.js';
import { checkListen, isLoopbackHost } from './security.js';
import { defaultEditorDir } from './static.js';
import { asServerWork, recordFatalErrors } from './crash-cause.js';
import { JsonTextCache } from './json-text-cache.js';
import { estimateJobBytes, memoryAvailable } from '../host/memory-admission.js';
import type { Recovery } from './store.js';

export { InsecureListenError } from './security.js';
export { JobStore, type Job, type JobStatus, type HistoryEntry } from './store.js';

export interface ServerOptions {
  /** Folders, models, extra nodes: the same options as the CLI's host. */
  host?: HostOptions;
  /** Default 8188; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1; anything beyond loopback requires `token`. */
  listen?: string;
  token?: string;
  /** Largest upload in bytes (default 100 MiB, ComfyUI's default). */
  maxUploadBytes?: number;
  editorDir?: string;
  log?: (message: string) => void;
  /** Jobs running at once, interleaved at sampler-step granularity (default 1). */
  concurrency?: number;
  /** Rows per U-Net call when concurrent jobs' steps are batched (default DEFAULT_MAX_BATCH; 1 = no batching). */
  maxBatch?: number;
  /** Dispatch prompts to `latentflow worker`s through BullMQ on this Redis (docs/scale-out.md). */
  redis?: { url: string; queue?: string; /** Prompts handed to workers at once (default 64). */ maxInFlight?: number };
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly host: Host;
  readonly store: JobStore;
  /** How long opening the store and recovering jobs took, in ms. */
  readonly recoveryMs: number;
  readonly recovered: Recovery;
  close(): Promise<void>;
}

/** Starts the ComfyUI-compatible HTTP + WebSocket server over a durable job store. */
export async function startServer(opts: ServerOptions = {}): Promise<RunningServer> {
  const listen = opts.listen ?? '127.0.0.1';
  checkListen(listen, opts.token);
  const log = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const host = await createHost({
    ...opts.host,
    cleanTemp: opts.host?.cleanTemp ?? true,
    log: opts.host?.log ?? log,
    batching: { ...opts.host?.batching, maxBatch: opts.maxBatch ?? opts.host?.batching?.maxBatch },
  });
  const t0 = performance.now();
  const store = new JobStore(host.folders.data);
  const recovered = store.recover(MAX_ATTEMPTS, poisonRecord);
  await removeStalePartials(host.folders);
  const recoveryMs = performance.now() - t0;
  if (recovered.requeued.length || recovered.poisoned.length) {
    const cause = recovered.fatal ? `${recovered.fatal.cause.kind} crash (${recovered.fatal.message})` : 'unknown cause (killed or out of memory)';
    const spared = recovered.spared?.length ? `, ${recovered.spared.length} not counted as an attempt` : '';
    log(`recovered after ${cause}: ${recovered.requeued.length} job(s) re-queued${spared}, ${recovered.poisoned.length} poisoned`);
  }
  const stopRecording = recordFatalErrors((f) => store.recordFatal(f));

  const maxUploadBytes = opts.maxUploadBytes ?? 100 * 1024 * 1024;
  const hub = new WsHub(serverFeatures(maxUploadBytes));
  const remote = opts.redis
    ? await (await import('../scaleout/remote-engine.js')).RemoteEngine.open(host.engine, { url: opts.redis.url, queue: opts.redis.queue, folders: host.folders, log })
    : undefined;
  const runner = new JobRunner(store, { engine: remote ?? host.engine, scheduler: host.scheduler }, host.folders, hub, log, {
    concurrency: remote ? (opts.redis?.maxInFlight ?? 64) : opts.concurrency,
    // Workers admit their own jobs; here only jobs of this process share its memory.
    memory: remote ? undefined : { estimate: (job) => estimateJobBytes(host.engine, job.prompt, job.outputsToExecute), available: () => memoryAvailable(host.engine) },
  });
  const ctx: AppContext = {
    engine: host.engine,
    store,
    runner,
    hub,
    folders: host.folders,
    token: opts.token,
    loopbackOnly: isLoopbackHost(listen) && !opts.token,
    maxUploadBytes,
    json: new JsonTextCache(),
    editorDir: opts.editorDir ?? defaultEditorDir(),
    log,
  };
  // Every socket, request and upgrade inherits the server context from the listening handle (crash-cause.ts).
  const server = asServerWork(() => http.createServer((req, res) => void handleRequest(ctx, req, res)));
  server.on('upgrade', createUpgradeHandler(ctx));
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    asServerWork(() =>
      server.listen(opts.port ?? 8188, listen, () => {
        server.off('error', reject);
        resolve();
      }),
    );
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = listen.includes(':') ? `[${listen}]` : listen;
  runner.start();

  let closed: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    host,
    store,
    recoveryMs,
    recovered,
    close() {
      closed ??= (async () => {
        hub.closeAll();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await runner.close();
        await remote?.close();
        stopRecording();
        store.close();
        await host.close();
      })();
      return closed;
    },
  };
}
