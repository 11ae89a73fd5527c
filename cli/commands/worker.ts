import type { Command } from 'commander';
import { loadCustomNodes } from '../custom-nodes.js';
import { collect, positiveInt } from '../option-values.js';
import { hostOptions, type HostFlags } from '../host-flags.js';
import { hostFlagsOn } from './run.js';
import { redactUrl } from '../../scaleout/connection.js';
import { describeActive } from '../../runtime/devices.js';
import { MODEL_POOL } from '../../runtime/services.js';

interface WorkerFlags extends HostFlags {
  redis: string;
  queue?: string;
  concurrency: number;
  customNodes: string[];
  lockDuration?: number;
  stalledInterval?: number;
}

/** `latentflow worker --redis URL`: runs queued jobs until SIGTERM/SIGINT (a second signal stops running jobs). */
export async function workerCommand(flags: WorkerFlags): Promise<void> {
  const { startWorker } = await import('../../scaleout/worker.js');
  const extraNodes = await loadCustomNodes(flags.customNodes);
  const worker = await startWorker({
    url: flags.redis,
    queue: flags.queue,
    concurrency: flags.concurrency,
    host: { ...hostOptions(flags), extraNodes },
    lockDurationMs: flags.lockDuration,
    stalledIntervalMs: flags.stalledInterval,
  });
  const device = describeActive(worker.host.services.get(MODEL_POOL).device);
  process.stdout.write(`latentflow worker ${worker.id}: ready on ${redactUrl(flags.redis)} queue ${flags.queue ?? 'latentflow'}, ${flags.concurrency} at a time, ${device} (output in ${worker.host.folders.output})\n`);
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
