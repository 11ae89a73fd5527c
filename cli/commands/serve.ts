import { resolveFolders } from '../../host/host.js';
import { InvalidArgumentError, type Command } from 'commander';
import { loadCustomNodes } from '../custom-nodes.js';
import { collect, positiveInt } from '../option-values.js';
import { hostOptions, type HostFlags } from '../host-flags.js';
import { hostFlagsOn } from './run.js';
import { describeActive } from '../../runtime/devices.js';
import { MODEL_POOL } from '../../runtime/services.js';

interface ServeFlags extends HostFlags {
  port: number;
  listen: string;
  token?: string;
  maxUploadSize: number;
  customNodes: string[];
  toyworld: boolean;
  concurrency: number;
  maxBatch?: number;
  redis?: string;
}

/**
 * NOTE: one job at a time, as ComfyUI runs them and its clients expect; bench/batching.bench.ts measures what
 * `--concurrency 4` gains on this kind of machine (docs/scheduling.md).
 */
export const DEFAULT_SERVE_CONCURRENCY = 1;

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`--port must be 0..65535, got '${v}'`);
  return n;
}

/** `latentflow serve`: the ComfyUI-compatible HTTP + WebSocket server with a durable queue. */
export async function serveCommand(flags: ServeFlags): Promise<void> {
  const { startServer } = await import('../../server/index.js');
  const opts = hostOptions(flags);
  if (flags.toyworld) {
    const { ensureStarterFiles } = await import('../starter-files.js');
    await ensureStarterFiles(resolveFolders(opts), { always: true, log: (m) => process.stderr.write(`${m}\n`) });
  }
  const extraNodes = await loadCustomNodes(flags.customNodes);
  const server = await startServer({
    host: { ...opts, extraNodes },
    port: flags.port,
    listen: flags.listen,
    token: flags.token,
    maxUploadBytes: Math.round(flags.maxUploadSize * 1024 * 1024),
    concurrency: flags.concurrency,
    maxBatch: flags.maxBatch,
    redis: flags.redis !== undefined ? { url: flags.redis } : undefined,
  });
  const device = describeActive(server.host.services.get(MODEL_POOL).device);
  process.stdout.write(`latentflow: serving on ${server.url} (${device}; data in ${server.host.folders.data}; recovery ${server.recoveryMs.toFixed(1)} ms)\n`);
  // The editor keeps the token after the first visit to this address and drops it from the address bar.
  if (flags.token) process.stdout.write(`latentflow: editor at ${server.url}/?token=${encodeURIComponent(flags.token)}\n`);
  const stop = () => {
    process.stderr.write('latentflow: shutting down\n');
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

export function registerServe(program: Command): void {
  const cmd = program
    .command('serve')
    .description('serve the ComfyUI-compatible HTTP + WebSocket API (and the editor when built)')
    .option('--port <port>', 'port (0 picks a free one)', parsePort, 8188)
    .option('--listen <address>', 'address to bind; beyond loopback requires --token', '127.0.0.1')
    .option('--token <token>', 'require this bearer token (Authorization header, or ?token= for the WebSocket and /view)')
    .option('--max-upload-size <MiB>', 'largest upload in MiB', parseFloat, 100)
    .option('--custom-nodes <module>', 'load extra node definitions from an ES module; repeatable', collect, [])
    .option('--no-toyworld', 'do not generate the toyworld model pack when it is missing')
    .option('--concurrency <n>', 'jobs running at once, interleaved step by step (see docs/scheduling.md)', positiveInt, DEFAULT_SERVE_CONCURRENCY)
    .option('--max-batch <rows>', 'rows per U-Net call when concurrent jobs share one (1 = one row per call)', positiveInt)
    .option('--redis <url>', 'run prompts on `latentflow worker`s through this Redis (see docs/scale-out.md)');
  hostFlagsOn(cmd);
  cmd.action(async (flags: ServeFlags) => {
    await serveCommand(flags);
  });
}
