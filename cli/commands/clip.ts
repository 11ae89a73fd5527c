/**
 * CLIP shortcuts for people who do not want JSON: `latentflow classify`, `latentflow index`,
 * `latentflow search`. Each fills in a shipped workflow (workflows/classify.json, retrieval.json)
 * and runs it in-process.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import type { ApiWorkflow, ExecutionResult, UiOutput } from '../../engine/index.js';
import { createHost, type Host, type HostOptions } from '../../host/host.js';
import { listClipVision } from '../../nodes/clip/loaders.js';
import { checkIndexName, readManifestRoot, INDEX_FOLDER } from '../../nodes/clip/index-store.js';
import { formatValidationErrors } from '../print-validation.js';
import { hostOptions, type HostFlags } from '../host-flags.js';
import { humanReporter } from '../progress-reporter.js';
import { positiveInt } from '../option-values.js';
import { EXIT, hostFlagsOn } from './run.js';

/** Where command output goes (stdout for results, stderr for messages); tests capture it. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

const stdio: CliIo = { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) };

/** Raised for command-line input that cannot be turned into a workflow. */
export class ClipCliError extends Error {
  override readonly name = 'ClipCliError';
}

/** The shipped workflow `name`, found by walking up from this file (a checkout or dist/). */
export function shippedWorkflow(name: string): ApiWorkflow {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const file = path.join(dir, 'workflows', name);
    if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'));
    dir = path.dirname(dir);
  }
  throw new ClipCliError(`workflow ${name} is not installed`);
}

function pickClip(host: Host, wanted: string | undefined): string {
  const names = listClipVision(host.services);
  if (wanted !== undefined) {
    if (!names.includes(wanted)) throw new ClipCliError(`no CLIP model '${wanted}' in ${path.join(host.folders.models, 'clip_vision')} (have: ${names.join(', ') || 'none'})`);
    return wanted;
  }
  if (names.includes('toyworld-clip')) return 'toyworld-clip';
  const first = names[0];
  if (!first) throw new ClipCliError(`no CLIP model in ${path.join(host.folders.models, 'clip_vision')}; run \`latentflow toyworld\` for the built-in one`);
  return first;
}

/** Validates and runs; prints validation and execution errors. */
async function runWorkflow(host: Host, wf: ApiWorkflow, io: CliIo, progress: boolean): Promise<ExecutionResult | number> {
  const v = host.engine.validate(wf);
  if (!v.ok || Object.keys(v.node_errors).length) {
    io.err(`invalid workflow:\n${formatValidationErrors(v).join('\n')}`);
    return EXIT.invalid;
  }
  const reporter = progress ? humanReporter(process.stderr, (id) => wf[id]?.class_type ?? '?') : undefined;
  const r = await host.engine.runValidated(wf, v, { onEvent: (ev) => reporter?.onEvent(ev) });
  reporter?.done();
  if (r.status !== 'success') {
    io.err(r.error ? `node ${r.error.nodeId} (${r.error.nodeType}): ${r.error.message}` : r.status);
    return EXIT.failed;
  }
  return r;
}

interface Ranked {
  label: string;
  score: number;
}

function rankedRows(ui: UiOutput | undefined): Ranked[] {
  const table = ui?.classification?.[0];
  if (!Array.isArray(table)) return [];
  return table.flatMap((r: unknown) => (typeof r === 'object' && r !== null && 'label' in r && 'score' in r && typeof r.label === 'string' && typeof r.score === 'number' ? [{ label: r.label, score: r.score }] : []));
}

const pct = (s: number) => `${(s * 100).toFixed(1)}%`;

export interface ClassifyFlags extends HostFlags {
  labels?: string;
  template: string;
  classifier?: string;
  clip?: string;
  top: number;
  json?: boolean;
}

/** `latentflow classify <image...>`: zero-shot over --labels and/or a generic --classifier. */
export async function classifyCommand(images: readonly string[], flags: ClassifyFlags, io: CliIo = stdio): Promise<number> {
  const labels = (flags.labels ?? '').split(',').map((l) => l.trim()).filter(Boolean);
  if (labels.length === 0 && flags.classifier === undefined) {
    io.err('give --labels "cat,dog" (zero-shot with CLIP) and/or --classifier <name> (models/classifiers/)');
    return EXIT.invalid;
  }
  const files = images.map((f) => path.resolve(f));
  const missing = files.filter((f) => !existsSync(f) || !statSync(f).isFile());
  if (missing.length) {
    io.err(`no such image: ${missing.join(', ')}`);
    return EXIT.invalid;
  }
  // LoadImage reads from input/, so each folder of images gets a host whose input/ is that folder.
  const byDir = new Map<string, string[]>();
  for (const f of files) byDir.set(path.dirname(f), [...(byDir.get(path.dirname(f)) ?? []), f]);
  const results = new Map<string, { zeroShot: Ranked[]; classifier: Ranked[] }>();
  for (const [dir, group] of byDir) {
    const host = await createHost({ ...hostOptions(flags), inputDir: dir });
    try {
      const wf = shippedWorkflow('classify.json');
      if (labels.length) {
        wf['1']!.inputs.clip_name = pickClip(host, flags.clip);
        wf['3']!.inputs.labels = labels.join('\n');
        wf['3']!.inputs.template = flags.template;
      } else {
        delete wf['1'];
        delete wf['3'];
      }
      if (flags.classifier !== undefined) {
        wf['4']!.inputs.classifier_name = flags.classifier;
        wf['5']!.inputs.top_k = flags.top;
      } else {
        delete wf['4'];
        delete wf['5'];
      }
      for (const f of group) {
        wf['2']!.inputs.image = path.basename(f);
        const r = await runWorkflow(host, wf, io, false);
        if (typeof r === 'number') return r;
        results.set(f, { zeroShot: rankedRows(r.outputs['3']).slice(0, flags.top), classifier: rankedRows(r.outputs['5']).slice(0, flags.top) });
      }
    } finally {
      await host.close();
    }
  }
  for (const f of files) {
    const r = results.get(f);
    if (!r) continue;
    if (flags.json) {
      io.out(JSON.stringify({ image: f, ...(labels.length ? { zero_shot: r.zeroShot } : {}), ...(flags.classifier !== undefined ? { classifier: r.classifier } : {}) }));
      continue;
    }
    const best = r.zeroShot[0] ?? r.classifier[0];
    io.out(`${f}: ${best ? `${best.label} (${pct(best.score)})` : '?'}`);
    if (labels.length && flags.classifier !== undefined) io.out(`  zero-shot: ${r.zeroShot.map((x) => `${x.label} ${pct(x.score)}`).join(', ')}`);
    if (flags.classifier !== undefined) io.out(`  ${flags.classifier}: ${r.classifier.map((x) => `${x.label} ${pct(x.score)}`).join(', ')}`);
    else io.out(`  ${r.zeroShot.map((x) => `${x.label} ${pct(x.score)}`).join(', ')}`);
  }
  return EXIT.ok;
}

/** An index name from a folder name: characters the index store accepts, or "images". */
export function defaultIndexName(dir: string): string {
  const base = path.basename(path.resolve(dir)).replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  return base === '' ? 'images' : base.slice(0, 128);
}

export interface IndexFlags extends HostFlags {
  name?: string;
  clip?: string;
  recursive: boolean;
  json?: boolean;
}

/** `latentflow index <dir>`: retrieval.json up to its ImageIndex node, over <dir>. */
export async function indexCommand(dir: string, flags: IndexFlags, io: CliIo = stdio): Promise<number> {
  const root = path.resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    io.err(`no such folder: ${root}`);
    return EXIT.invalid;
  }
  const name = checkIndexName(flags.name ?? defaultIndexName(root));
  const host = await createHost({ ...hostOptions(flags), inputDir: root });
  try {
    const wf = shippedWorkflow('retrieval.json');
    delete wf['3'];
    delete wf['4'];
    wf['1']!.inputs.clip_name = pickClip(host, flags.clip);
    Object.assign(wf['2']!.inputs, { folder: '', index_name: name, recursive: flags.recursive });
    const r = await runWorkflow(host, wf, io, !flags.json);
    if (typeof r === 'number') return r;
    const stats = r.outputs['2']?.index?.[0];
    const where = path.join(host.folders.data, INDEX_FOLDER, name);
    if (flags.json) io.out(JSON.stringify({ index: name, path: where, ...(typeof stats === 'object' && stats !== null ? stats : {}) }));
    else io.out(`${name}: ${String(r.outputs['2']?.text?.[0] ?? '')} -> ${where}`);
    return EXIT.ok;
  } finally {
    await host.close();
  }
}

export interface SearchFlags extends HostFlags {
  top: number;
  clip?: string;
  save?: boolean;
  json?: boolean;
}

/** Resolves `<index>`: an index folder (…/image-index/<name>), an indexed image folder, or a name. */
export function resolveIndex(arg: string, dataDir: string): { name: string; dataDir: string } {
  const p = path.resolve(arg);
  if (existsSync(path.join(p, 'manifest.json'))) {
    if (path.basename(path.dirname(p)) !== INDEX_FOLDER) throw new ClipCliError(`${p} is not inside a data/${INDEX_FOLDER}/ folder`);
    return { name: path.basename(p), dataDir: path.dirname(path.dirname(p)) };
  }
  if (existsSync(p) && statSync(p).isDirectory() && (arg.includes('/') || arg.includes(path.sep) || !existsSync(path.join(dataDir, INDEX_FOLDER, arg)))) {
    return { name: defaultIndexName(p), dataDir };
  }
  return { name: checkIndexName(arg), dataDir };
}

/** `latentflow search <index> <query>`: retrieval.json over the index's folder, best --top first. */
export async function searchCommand(indexArg: string, query: string, flags: SearchFlags, io: CliIo = stdio): Promise<number> {
  const base = hostOptions(flags);
  const defaultData = path.join(path.resolve(base.baseDir ?? process.cwd()), 'data');
  const { name, dataDir } = resolveIndex(indexArg, defaultData);
  const manifestDir = path.join(dataDir, INDEX_FOLDER, name);
  if (!existsSync(path.join(manifestDir, 'manifest.json'))) {
    io.err(`no index '${name}' in ${path.join(dataDir, INDEX_FOLDER)}; build one with \`latentflow index <dir>\``);
    return EXIT.invalid;
  }
  const opts: HostOptions = { ...base, inputDir: readManifestRoot(manifestDir), dataDir };
  const host = await createHost(opts);
  try {
    const wf = shippedWorkflow('retrieval.json');
    wf['1']!.inputs.clip_name = pickClip(host, flags.clip);
    Object.assign(wf['2']!.inputs, { folder: '', index_name: name });
    Object.assign(wf['3']!.inputs, { query, top_k: flags.top });
    if (flags.save) wf['4'] = { class_type: 'SaveImage', inputs: { images: ['3', 0], filename_prefix: `search/${name}` } };
    else delete wf['4'];
    const r = await runWorkflow(host, wf, io, false);
    if (typeof r === 'number') return r;
    const results = r.outputs['3']?.results ?? [];
    for (const hit of results) {
      if (typeof hit !== 'object' || hit === null || !('file' in hit) || !('score' in hit) || !('rank' in hit)) continue;
      const file = path.join(host.folders.input, String(hit.file));
      if (flags.json) io.out(JSON.stringify({ rank: hit.rank, score: hit.score, file }));
      else io.out(`${String(hit.rank).padStart(3)}. ${Number(hit.score).toFixed(4)}  ${file}`);
    }
    return EXIT.ok;
  } finally {
    await host.close();
  }
}

export function registerClip(program: Command): void {
  const classify = program
    .command('classify')
    .description('classify images: zero-shot with CLIP over --labels, and/or with an ONNX --classifier')
    .argument('<image...>', 'image files')
    .option('--labels <list>', 'comma-separated labels, e.g. "cat,dog"')
    .option('--template <text>', 'prompt template; {} is the label', 'a photo of a {}')
    .option('--classifier <name>', 'an image classifier folder in models/classifiers/')
    .option('--clip <name>', 'a CLIP folder in models/clip_vision/')
    .option('--top <k>', 'labels shown per image', positiveInt, 3)
    .option('--json', 'one JSON object per image');
  hostFlagsOn(classify).action(async (images: string[], flags: ClassifyFlags) => {
    process.exitCode = await classifyCommand(images, flags);
  });
  const index = program
    .command('index')
    .description('embed every image under <dir> into a CLIP index in <base-dir>/data (only new or changed files)')
    .argument('<dir>', 'folder of images')
    .option('--name <name>', 'index name (default: the folder name)')
    .option('--clip <name>', 'a CLIP folder in models/clip_vision/')
    .option('--no-recursive', 'skip subfolders')
    .option('--json', 'print the result as JSON');
  hostFlagsOn(index).action(async (dir: string, flags: IndexFlags) => {
    process.exitCode = await indexCommand(dir, flags);
  });
  const search = program
    .command('search')
    .description('search an image index with a text query')
    .argument('<index>', 'index name, index folder, or the indexed image folder')
    .argument('<query>', 'text, e.g. "a red circle"')
    .option('--top <k>', 'results', positiveInt, 5)
    .option('--clip <name>', 'a CLIP folder in models/clip_vision/')
    .option('--save', 'save the hits as PNGs in output/search/')
    .option('--json', 'one JSON object per hit');
  hostFlagsOn(search).action(async (idx: string, query: string, flags: SearchFlags) => {
    process.exitCode = await searchCommand(idx, query, flags);
  });
}
