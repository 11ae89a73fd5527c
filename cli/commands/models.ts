import { SingleBar } from 'cli-progress';
import { InvalidArgumentError, type Command } from 'commander';
import { resolveFolders } from '../../host/host.js';
import {
  ChecksumMismatchError, DownloadError, HubRequestError, ModelExistsError, ModelNotFoundError, ModelSpecError, PullAbortedError,
  PullLockedError, UnsupportedLayoutError, formatVerifyReport, hubOptionsFromEnv, isPullKind, listInstalledModels, pullModel,
  verifyModel, type PullEvent, type VerifyOptions, type PullKind,
} from '../../model-hub/index.js';
import { ModelPool } from '../../runtime/model-pool.js';
import { describeActive, formatDevice, type DeviceRequest } from '../../runtime/devices.js';
import { selectDevice } from '../../runtime/device-select.js';
import { cpuFallbackSummary, nodePlacements } from '../../runtime/node-placement.js';
import { DEVICE_HELP, deviceOption } from '../option-values.js';

export const MODELS_EXIT = { ok: 0, failed: 1, interrupted: 130 } as const;

/** Where the commands write; tests pass their own. */
export interface ModelsIo {
  out(text: string): void;
  err: { write(text: string): unknown; isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  /** Ctrl+C: the pull aborts and keeps its partial downloads (default: process SIGINT). */
  onInterrupt?(abort: () => void): () => void;
}

const processIo: ModelsIo = {
  out: (t) => process.stdout.write(t),
  err: process.stderr,
  env: process.env,
  onInterrupt(abort) {
    process.once('SIGINT', abort);
    return () => process.off('SIGINT', abort);
  },
};

interface DirFlags {
  baseDir: string;
  modelsDir?: string;
}

export interface PullFlags extends DirFlags {
  subfolder?: string;
  kind?: PullKind;
  name?: string;
  variant?: string;
  force?: boolean;
}

const modelsDirOf = (f: DirFlags): string => resolveFolders({ baseDir: f.baseDir, modelsDir: f.modelsDir }).models;

export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}

/** A cli-progress bar over all bytes on a TTY; one line per file otherwise. */
function pullReporter(io: ModelsIo): { onEvent(e: PullEvent): void; stop(): void } {
  const tty = io.err.isTTY === true;
  let bar: SingleBar | undefined;
  return {
    onEvent(e) {
      switch (e.type) {
        case 'plan': {
          const size = e.totalBytes !== undefined ? humanBytes(e.totalBytes) : 'size unknown';
          io.err.write(`${e.layout} -> ${e.kind} '${e.name}': ${e.files.length} files, ${size}\n`);
          if (tty && e.totalBytes !== undefined) {
            bar = new SingleBar({
              stream: process.stderr, hideCursor: true, clearOnComplete: true,
              format: '{bar} {percentage}% | {done}/{all} | {file}',
            });
            bar.start(e.totalBytes, 0, { done: humanBytes(0), all: humanBytes(e.totalBytes), file: '' });
          }
          break;
        }
        case 'file':
          if (!bar) io.err.write(`  [${e.index + 1}/${e.count}] ${e.file.remote}${e.file.size !== undefined ? ` (${humanBytes(e.file.size)})` : ''}\n`);
          break;
        case 'progress':
          bar?.update(e.overall, { done: humanBytes(e.overall), file: e.file.local });
          break;
        case 'file-done':
          if (!bar && e.result.resumedFrom > 0 && e.result.downloaded) io.err.write(`    resumed at ${humanBytes(e.result.resumedFrom)}\n`);
          break;
        case 'verifying':
          bar?.stop();
          bar = undefined;
          io.err.write('checking the ONNX files...\n');
          break;
      }
    },
    stop() {
      bar?.stop();
    },
  };
}

const USER_ERRORS = [HubRequestError, ChecksumMismatchError, DownloadError, UnsupportedLayoutError, ModelExistsError, ModelSpecError, PullLockedError];

/** `latentflow models pull <repo>[@revision]`. */
export async function modelsPullCommand(spec: string, flags: PullFlags, io: ModelsIo = processIo): Promise<number> {
  const modelsDir = modelsDirOf(flags);
  const ac = new AbortController();
  const release = io.onInterrupt?.(() => ac.abort()) ?? (() => undefined);
  const reporter = pullReporter(io);
  try {
    const r = await pullModel({
      modelsDir, spec, kind: flags.kind, subfolder: flags.subfolder, variant: flags.variant, name: flags.name, force: flags.force,
      hub: hubOptionsFromEnv(io.env), signal: ac.signal, onEvent: (e) => reporter.onEvent(e),
    });
    reporter.stop();
    const resumed = r.transferred < r.bytes ? ` (${humanBytes(r.transferred)} transferred, the rest resumed)` : '';
    io.err.write(`installed ${r.kind} '${r.name}' (${humanBytes(r.bytes)})${resumed}\n`);
    io.out(`${r.dir}\n`);
    io.err.write(`check it with: latentflow models verify ${r.name}\n`);
    return MODELS_EXIT.ok;
  } catch (e) {
    reporter.stop();
    if (e instanceof PullAbortedError) {
      io.err.write(`${e.message}\nnothing was installed; the same command resumes the partial downloads\n`);
      return MODELS_EXIT.interrupted;
    }
    if (USER_ERRORS.some((C) => e instanceof C) && e instanceof Error) {
      io.err.write(`latentflow models pull: ${e.message}\n`);
      return MODELS_EXIT.failed;
    }
    throw e;
  } finally {
    release();
  }
}

/** `latentflow models list`. */
export async function modelsListCommand(flags: DirFlags & { json?: boolean }, io: ModelsIo = processIo): Promise<number> {
  const models = await listInstalledModels(modelsDirOf(flags));
  if (flags.json) {
    io.out(`${JSON.stringify(models, null, 2)}\n`);
    return MODELS_EXIT.ok;
  }
  if (models.length === 0) {
    io.err.write(`no models in ${modelsDirOf(flags)}; try 'latentflow toyworld' or 'latentflow models pull <repo>'\n`);
    return MODELS_EXIT.ok;
  }
  const rows = models.map((m) => [m.kind, m.name, humanBytes(m.bytes), (m.flavour ?? 'unreadable') + (m.source ? `  from ${m.source}` : '') + (m.problems.length ? `  PROBLEMS: ${m.problems.join('; ')}` : '')]);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length), ['KIND', 'NAME', 'SIZE'][i].length));
  const line = (r: string[]) => `${r.slice(0, 3).map((c, i) => (i === 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ')}  ${r[3]}`.trimEnd();
  io.out(`${[line(['KIND', 'NAME', 'SIZE', 'FLAVOUR']), ...rows.map(line)].join('\n')}\n`);
  return MODELS_EXIT.ok;
}

type VerifyFlags = DirFlags & { json?: boolean; memoryBudget?: number; device?: DeviceRequest };

/** `latentflow models verify <name>`: exit 0 only when latentflow can drive every matching model. */
export async function modelsVerifyCommand(name: string, flags: VerifyFlags, io: ModelsIo = processIo): Promise<number> {
  const pool = new ModelPool({ memoryBudgetBytes: flags.memoryBudget !== undefined ? Math.round(flags.memoryBudget * 2 ** 30) : undefined, log: (m) => io.err.write(`${m}\n`) });
  try {
    let placement: VerifyOptions['placement'];
    if (flags.device) {
      const active = await selectDevice(flags.device, (d) => pool.probe(d));
      pool.useDevice(active);
      const device = active.device;
      io.err.write(`latentflow models verify: ${describeActive(active)}\n`);
      if (device.kind !== 'cpu') {
        placement = async (file) => {
          const summary = cpuFallbackSummary(await nodePlacements(file, device));
          return `on ${formatDevice(device)}: ${summary ?? 'every node runs on the device'}`;
        };
      }
    }
    const reports = await verifyModel(modelsDirOf(flags), name, pool, { placement });
    io.out(flags.json ? `${JSON.stringify(reports, null, 2)}\n` : `${reports.map(formatVerifyReport).join('\n\n')}\n`);
    return reports.every((r) => r.ok) ? MODELS_EXIT.ok : MODELS_EXIT.failed;
  } catch (e) {
    if (e instanceof ModelNotFoundError || e instanceof ModelSpecError) {
      io.err.write(`latentflow models verify: ${e.message}\n`);
      return MODELS_EXIT.failed;
    }
    throw e;
  } finally {
    await pool.close();
  }
}

function pullKind(v: string): PullKind {
  if (!isPullKind(v)) throw new InvalidArgumentError('expected checkpoint, clip_vision or classifier');
  return v;
}

function dirOptions(cmd: Command): Command {
  return cmd
    .option('--base-dir <dir>', 'folder holding models/', process.cwd())
    .option('--models-dir <dir>', 'models folder (default <base-dir>/models)');
}

/** `latentflow models pull|list|verify`. */
export function registerModels(program: Command): void {
  const models = program.command('models').description('download, list and check ONNX models (see docs/models.md)');
  dirOptions(
    models
      .command('pull <repo>')
      .description('download a Hugging Face repository (<owner>/<name>[@revision]) into models/<kind>/<name>/; HF_ENDPOINT and HF_TOKEN are honoured; an interrupted pull resumes')
      .option('--subfolder <dir>', 'use only the files under this folder of the repository')
      .option('--kind <kind>', 'checkpoint, clip_vision or classifier (default: detected)', pullKind)
      .option('--name <name>', 'folder name under models/<kind>/ (default: the repository name)')
      .option('--variant <v>', 'ONNX variant model_<v>.onnx (fp16, quantized, ...); default fp32 model.onnx')
      .option('--force', 'replace an installed model of the same name'),
  ).action(async (repo: string, flags: PullFlags) => {
    process.exitCode = await modelsPullCommand(repo, flags);
  });
  dirOptions(models.command('list').description('installed models: kind, detected exporter flavour, size').option('--json', 'print JSON'))
    .action(async (flags: DirFlags & { json?: boolean }) => {
      process.exitCode = await modelsListCommand(flags);
    });
  dirOptions(
    models
      .command('verify <name>')
      .description('open every session of a model (<name> or <kind>/<name>) and report whether latentflow can drive it')
      .option('--json', 'print JSON')
      .option('--memory-budget <GiB>', 'model memory budget in GiB', parseFloat)
      .option('--device <device>', `${DEVICE_HELP}; lists the nodes that fall back to the CPU`, deviceOption),
  ).action(async (name: string, flags: VerifyFlags) => {
    process.exitCode = await modelsVerifyCommand(name, flags);
  });
}
