import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidArgumentError, type Command } from 'commander';
import type { NodeDefinition } from '../../engine/index.js';
import { hostOptions, type HostFlags } from '../host-flags.js';
import { hostFlagsOn } from './run.js';
import { redactUrl } from '../../server/distributed/connection.js';

interface WorkerFlags extends HostFlags {
  redis: string;
  queue?: string;
  concurrency: number;
  customNodes: string[];
  lockDuration?: number;
  stalledInterval?: number;
}

/** A module given to --custom-nodes did not export a list of node definitions. */
export class WorkerNodesError extends Error {
  override name = 'WorkerNodesError';
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number >= 1');
  return n;
}

function collect(value: string, prev: string[]): string[] {
  return [...prev, value];
}

function isNodeDefinition(v: unknown): v is NodeDefinition {
  return typeof v === 'object' && v !== null && 'type' in v && typeof v.type === 'string' && 'run' in v && typeof v.run === 'function' && 'outputs' in v;
}

/** Same contract as `serve --custom-nodes`: a module exporting `NODES` (or default) as node definitions. */
async function loadNodes(files: readonly string[]): Promise<NodeDefinition[]> {
  const out: NodeDefinition[] = [];
  for (const f of files) {
    const mod: unknown = await import(pathToFileURL(path.resolve(f)).href);
    const list = typeof mod === 'object' && mod !== null ? ('NODES' in mod ? mod.NODES : 'default' in mod ? mod.default : undefined) : undefined;
    if (!Array.isArray(list) || !list.every(isNodeDefinition)) throw new WorkerNodesError(`${f}: export NODES (or default) as an array of node definitions`);
    out.push(...list);
  }
  return out;
}

/** `latentflow worker --redis URL`: runs queued jobs until SIGTERM/SIGINT (a second signal stops running jobs). */
export async function workerCommand(flags: WorkerFlags): Promise<void> {
  const { startWorker } = await import('../distributed/worker.js');
  const extraNodes = await loadNodes(flags.customNodes);
  const worker = await startWorker({
    url: flags.redis,
    queue: flags.queue,
    concurrency: flags.concurrency,
    host: { ...hostOptions(flags), extraNodes },
    lockDurationMs: flags.lockDuration,
    stalledIntervalMs: flags.stalledInterval,
  });
  process.stdout.write(`latentflow worker ${worker.id}: ready on ${redactUrl(flags.redis)} queue ${flags.queue ?? 'latentflow'}, ${flags.concurrency} at a time (output in ${worker.host.folders.output})\n`);
  let stopping = false;
  const stop = () => {
    const force = stopping;
    stopping = true;
    process.stderr.write(force ? 'latentflow worker: stopping running jobs\n' : 'latentflow worker: finishing running jobs (signal again to stop them)\n');
    void worker.close(force).then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

export function registerWorker(program: Command): void {
  const cmd = program
    .command('worker')
    .description('run jobs from a BullMQ queue on Redis (scale-out; see docs/scale-out.md)')
    .requiredOption('--redis <url>', 'Redis URL, e.g. redis://10.0.0.5:6379/0')
    .option('--queue <name>', 'queue name', 'latentflow')
    .option('--concurrency <n>', 'jobs run at once in this process', positiveInt, 1)
    .option('--custom-nodes <module>', 'load extra node definitions from an ES module; repeatable', collect, [])
    .option('--lock-duration <ms>', 'a job whose worker stops renewing its lock this long goes to another worker', positiveInt)
    .option('--stalled-interval <ms>', 'how often to look for jobs of dead workers', positiveInt);
  hostFlagsOn(cmd);
  cmd.action(async (flags: WorkerFlags) => {
    await workerCommand(flags);
  });
}
