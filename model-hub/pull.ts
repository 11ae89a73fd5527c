/**
 * `models pull`: list a hub repository, choose the files of a supported layout, download them into
 * `models/.pull-<name>-tmp/model/` (resumable partials stay there between runs), check every ONNX file
 * parses and keeps its external data inside the folder, then rename the whole folder into
 * `models/<kind>/<name>/` in one step. A failed or interrupted pull never leaves anything under
 * `models/<kind>/`.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { acquirePidLock } from '../engine/pid-lock.js';
import { inspectModelFile } from '../runtime/model-file.js';
import { downloadFile, type DownloadResult } from './download.js';
import { ModelExistsError, ModelSpecError, PullAbortedError, PullLockedError, UnsupportedLayoutError } from './errors.js';
import { HubClient, parseRepoSpec, type HubOptions, type RepoSpec } from './hub-client.js';
import { KIND_FOLDERS, SOURCE_FILE, type PullKind } from './kinds.js';
import { planPull, type PlannedFile } from './select-files.js';

export interface PullOptions {
  modelsDir: string;
  /** "owner/name[@revision]" or a parsed spec. */
  spec: string | RepoSpec;
  kind?: PullKind;
  subfolder?: string;
  /** ONNX variant (`model_<variant>.onnx`); fp32 by default. */
  variant?: string;
  /** Folder name under models/<kind>/ (default: the repository's name). */
  name?: string;
  /** Replace an installed model of the same name (atomically). */
  force?: boolean;
  /** A client, or options for one (default: HF_ENDPOINT and HF_TOKEN from the environment). */
  hub?: HubClient | HubOptions;
  signal?: AbortSignal;
  onEvent?: (e: PullEvent) => void;
  retries?: number;
  retryDelayMs?: number;
}

export type PullEvent =
  | { type: 'plan'; kind: PullKind; name: string; layout: string; files: readonly PlannedFile[]; totalBytes: number | undefined }
  | { type: 'file'; file: PlannedFile; index: number; count: number }
  | { type: 'progress'; file: PlannedFile; received: number; total: number | undefined; overall: number }
  | { type: 'file-done'; file: PlannedFile; result: DownloadResult }
  | { type: 'verifying'; dir: string };

export interface PullResult {
  readonly kind: PullKind;
  readonly name: string;
  readonly dir: string;
  readonly layout: string;
  readonly files: readonly PlannedFile[];
  readonly bytes: number;
  /** Bytes actually transferred in this run (resumed and already-complete files excluded). */
  readonly transferred: number;
  readonly commit?: string;
}

const NAME_RE = /^[A-Za-z0-9][\w.+-]*$/;

export function checkModelName(name: string): string {
  if (!NAME_RE.test(name) || name.includes('..')) {
    throw new ModelSpecError(`'${name}' cannot be a model folder name: use letters, digits, '.', '_', '+', '-' (no '/' or '..')`);
  }
  return name;
}

/** The tmp folder of a pull (documented: partial downloads survive there until the pull completes). */
export function pullTmpDir(modelsDir: string, name: string): string {
  return path.join(modelsDir, `.pull-${name}-tmp`);
}

/** An exclusive lock file holding our pid; a lock left by a dead process is taken over. */
function lock(tmp: string): Promise<() => Promise<void>> {
  return acquirePidLock(path.join(tmp, '.lock'), {
    held: (pid) => new PullLockedError(`another pull (pid ${pid}) is writing ${tmp}; wait for it or stop it`),
    failed: () => new PullLockedError(`cannot lock ${tmp}`),
  });
}

async function listTree(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listTree(path.join(dir, e.name), rel)));
    else out.push(rel);
  }
  return out;
}

/** labels.txt from config.json's id2label (Hugging Face classifiers ship no labels.txt). */
async function writeLabels(dir: string): Promise<void> {
  const labels = path.join(dir, 'labels.txt');
  if (existsSync(labels)) return;
  const raw: unknown = JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8'));
  const map = typeof raw === 'object' && raw !== null && 'id2label' in raw ? raw.id2label : undefined;
  if (typeof map !== 'object' || map === null) throw new UnsupportedLayoutError(`${dir}: no labels.txt and config.json has no id2label`);
  const entries = Object.entries(map).map(([k, v]) => [Number(k), String(v)] as const);
  const n = entries.length;
  const byId = new Map(entries);
  if (!entries.every(([k]) => Number.isInteger(k) && k >= 0 && k < n)) throw new UnsupportedLayoutError(`${dir}: id2label ids are not 0..${n - 1}`);
  await writeFile(labels, `${Array.from({ length: n }, (_, i) => byId.get(i) ?? '').join('\n')}\n`);
}

/** Pulls one repository into models/<kind>/<name>/. */
export async function pullModel(opts: PullOptions): Promise<PullResult> {
  const spec = typeof opts.spec === 'string' ? parseRepoSpec(opts.spec) : opts.spec;
  const client = opts.hub instanceof HubClient ? opts.hub : new HubClient(opts.hub);
  const name = checkModelName(opts.name ?? spec.repo.split('/')[1]);
  const emit = opts.onEvent ?? (() => undefined);
  const modelsDir = path.resolve(opts.modelsDir);

  const listing = await client.listFiles(spec, opts.signal);
  const plan = planPull(listing, { kind: opts.kind, subfolder: opts.subfolder, variant: opts.variant });
  const dest = path.join(modelsDir, KIND_FOLDERS[plan.kind], name);
  if (existsSync(dest) && !opts.force) {
    throw new ModelExistsError(`${dest} already exists; pass --force to replace it or --name to install under another name`);
  }
  const totalBytes = plan.files.every((f) => f.size !== undefined) ? plan.files.reduce((s, f) => s + (f.size ?? 0), 0) : undefined;
  emit({ type: 'plan', kind: plan.kind, name, layout: plan.layout, files: plan.files, totalBytes });

  const tmp = pullTmpDir(modelsDir, name);
  const unlock = await lock(tmp);
  try {
    const work = path.join(tmp, 'model');
    let done = 0;
    let transferred = 0;
    let commit: string | undefined;
    for (const [index, file] of plan.files.entries()) {
      if (opts.signal?.aborted) throw new PullAbortedError(`interrupted; partial downloads are kept in ${tmp} and the same command resumes them`);
      emit({ type: 'file', file, index, count: plan.files.length });
      const target = path.join(work, ...file.local.split('/'));
      await mkdir(path.dirname(target), { recursive: true });
      const url = client.fileUrl(spec, file.remote);
      const result = await downloadFile(client, url, target, file, {
        signal: opts.signal,
        retries: opts.retries,
        retryDelayMs: opts.retryDelayMs,
        onProgress: (received, total) => emit({ type: 'progress', file, received, total, overall: done + received }),
      });
      done += result.bytes;
      if (result.downloaded) transferred += result.bytes - result.resumedFrom;
      commit ??= result.commit;
      emit({ type: 'file-done', file, result });
    }

    emit({ type: 'verifying', dir: work });
    const wanted = new Set(plan.files.map((f) => f.local));
    for (const rel of await listTree(work)) if (!wanted.has(rel)) await rm(path.join(work, ...rel.split('/')), { force: true });
    if (plan.kind === 'classifier') await writeLabels(work);
    // Parses every graph and resolves its external data inside the folder before anything is placed.
    for (const f of plan.files) if (f.local.endsWith('.onnx')) inspectModelFile(path.join(work, ...f.local.split('/')));
    const source = {
      repo: spec.repo, revision: spec.revision, commit, subfolder: opts.subfolder, variant: opts.variant,
      kind: plan.kind, layout: plan.layout, endpoint: client.endpoint, pulledAt: new Date().toISOString(),
      files: plan.files.map((f) => ({ path: f.local, remote: f.remote, size: f.size, sha256: f.sha256 })),
    };
    await writeFile(path.join(work, SOURCE_FILE), `${JSON.stringify(source, null, 2)}\n`);

    if (opts.signal?.aborted) throw new PullAbortedError(`interrupted before installing; the downloads are kept in ${tmp}`);
    await mkdir(path.dirname(dest), { recursive: true });
    if (existsSync(dest)) {
      const old = path.join(tmp, 'replaced');
      await rename(dest, old);
      await rename(work, dest);
      await rm(old, { recursive: true, force: true });
    } else {
      await rename(work, dest);
    }
    await unlock();
    await rm(tmp, { recursive: true, force: true });
    return { kind: plan.kind, name, dir: dest, layout: plan.layout, files: plan.files, bytes: done, transferred, commit };
  } finally {
    await unlock();
  }
}
