/**
 * Which files of a repository a supported layout needs (spec/models.md, "Folders"), and where each goes
 * inside `models/<kind>/<name>/`. Weights in other formats (safetensors, PyTorch, Flax, OpenVINO) and
 * model variants other than the one asked for (fp32 `model.onnx` by default) are left out.
 */
import path from 'node:path';
import { UnsupportedLayoutError } from './errors.js';
import type { HubFile } from './hub-client.js';
import type { PullKind } from './kinds.js';

export interface PlannedFile {
  /** Path in the repository. */
  readonly remote: string;
  /** Path inside the installed model folder. */
  readonly local: string;
  readonly size?: number;
  readonly sha256?: string;
  readonly gitOid?: string;
}

export interface PullPlan {
  readonly kind: PullKind;
  /** Human description of the layout chosen, e.g. "diffusers ONNX pipeline". */
  readonly layout: string;
  readonly files: readonly PlannedFile[];
}

export interface SelectOptions {
  kind?: PullKind;
  /** Only files under this folder of the repository, placed as if it were the root. */
  subfolder?: string;
  /** ONNX variant suffix (`model_<variant>.onnx`, e.g. fp16, quantized); the unsuffixed fp32 file by default. */
  variant?: string;
}

/** Folders of a diffusers ONNX pipeline; text_encoder_2/tokenizer_2 come along for SDXL so verify can name it. */
const PIPELINE_DIRS = ['text_encoder', 'text_encoder_2', 'tokenizer', 'tokenizer_2', 'unet', 'cnet', 'vae_encoder', 'vae_decoder', 'scheduler'];
const REQUIRED_PIPELINE_MODELS = ['unet', 'text_encoder', 'vae_decoder'];
const CLIP_ROOT_FILES = ['config.json', 'preprocessor_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.json', 'merges.txt'];
const CLIP_MODELS = ['text_model', 'vision_model', 'model'];
const CLASSIFIER_ROOT_FILES = ['config.json', 'preprocessor_config.json', 'labels.txt'];
/** Other frameworks' weights and repo furniture: never needed by an ONNX layout. */
const FOREIGN = /\.(safetensors|bin|ckpt|pt|pth|msgpack|h5|md|png|jpe?g|gif|webp|xml|tflite|mlmodel|mlpackage|gguf|py|ipynb)$|^\.git/i;

interface RepoView {
  readonly files: ReadonlyMap<string, HubFile>;
}

function view(files: readonly HubFile[], subfolder: string | undefined): RepoView {
  const prefix = subfolder ? `${subfolder.replace(/^\/+|\/+$/g, '')}/` : '';
  const out = new Map<string, HubFile>();
  for (const f of files) if (f.path.startsWith(prefix)) out.set(f.path.slice(prefix.length), f);
  if (out.size === 0 && prefix) throw new UnsupportedLayoutError(`the repository has no files under '${subfolder}/'`);
  return { files: out };
}

/** `f.path` is the full repository path (the view only strips the subfolder from its keys). */
function planned(f: HubFile, local: string): PlannedFile {
  return { remote: f.path, local, size: f.size, sha256: f.sha256, gitOid: f.gitOid };
}

/**
 * `<base>_<variant>.onnx` in `dir` ('' = root) when asked for and present, else `<base>.onnx` (repos ship
 * variants for some components only, e.g. an fp16 U-Net next to an fp32 VAE).
 */
function pickOnnx(v: RepoView, dir: string, base: string, variant: string | undefined): string | undefined {
  const at = (name: string): string | undefined => {
    const p = dir ? `${dir}/${name}` : name;
    return v.files.has(p) ? p : undefined;
  };
  return (variant ? at(`${base}_${variant}.onnx`) : undefined) ?? at(`${base}.onnx`);
}

function variantsOf(v: RepoView, dir: string, base: string): string[] {
  const re = new RegExp(`^${dir ? `${dir}/` : ''}${base}_(\\w+)\\.onnx$`);
  return [...v.files.keys()].map((p) => re.exec(p)?.[1]).filter((x): x is string => x !== undefined);
}

/** External-data files of an .onnx (`x.onnx_data`, `x.onnx.data`, `x.onnx_data_1`, ...) in the same folder. */
function dataFilesOf(v: RepoView, onnxPath: string): string[] {
  return [...v.files.keys()].filter((p) => p.startsWith(`${onnxPath}_data`) || p.startsWith(`${onnxPath}.data`));
}

function missingModel(v: RepoView, dir: string, base: string, variant: string | undefined): UnsupportedLayoutError {
  const where = `${dir ? `${dir}/` : ''}${base}${variant ? `_${variant}.onnx or ${base}` : ''}.onnx`;
  const others = variantsOf(v, dir, base);
  const hint = others.length ? `; variants present: ${others.join(', ')} (pick one with --variant)` : '';
  return new UnsupportedLayoutError(`the repository has no ${where}${hint}`);
}

function planCheckpoint(v: RepoView, variant: string | undefined): PlannedFile[] {
  const out: PlannedFile[] = [];
  const add = (p: string, local = p): void => {
    const f = v.files.get(p);
    if (f) out.push(planned(f, local));
  };
  if (!v.files.has('model_index.json')) throw new UnsupportedLayoutError('no model_index.json: not a diffusers pipeline (is the ONNX export in a subfolder? try --subfolder)');
  add('model_index.json');
  for (const dir of PIPELINE_DIRS) {
    const inDir = [...v.files.keys()].filter((p) => p.startsWith(`${dir}/`) && !p.slice(dir.length + 1).includes('/'));
    const onnx = inDir.filter((p) => p.endsWith('.onnx'));
    if (onnx.length === 0) {
      // The SDXL refiner ships text_encoder_2/ alone.
      const refiner = dir === 'text_encoder' && [...v.files.keys()].some((p) => p.startsWith('text_encoder_2/') && p.endsWith('.onnx'));
      if (REQUIRED_PIPELINE_MODELS.includes(dir) && !refiner) throw new UnsupportedLayoutError(`no ONNX model in ${dir}/ (has this repository an ONNX export?)`);
      for (const p of inDir) if (!FOREIGN.test(p)) add(p);
      continue;
    }
    const chosen = pickOnnx(v, dir, 'model', variant) ?? (variant === undefined && onnx.length === 1 ? onnx[0] : undefined);
    if (!chosen) throw missingModel(v, dir, 'model', variant);
    // The loader takes model.onnx; a variant is renamed (its external data keeps its own name).
    add(chosen, `${dir}/model.onnx`);
    // Everything else in the folder comes along (configs, weights.pb, per-tensor data files of old exports)
    // except other variants' external data.
    const otherData = new Set(onnx.filter((p) => p !== chosen).flatMap((p) => dataFilesOf(v, p)));
    for (const p of inDir) if (!p.endsWith('.onnx') && !otherData.has(p) && !FOREIGN.test(p)) add(p);
  }
  return out;
}

/** Where the ONNX files of a Transformers.js repo live: onnx/ (the convention) or the root. */
function onnxDir(v: RepoView, base: string): string | undefined {
  if ([...v.files.keys()].some((p) => p.startsWith('onnx/') && p.slice(5).startsWith(base))) return 'onnx';
  if ([...v.files.keys()].some((p) => !p.includes('/') && p.startsWith(base) && p.endsWith('.onnx'))) return '';
  return undefined;
}

function planClip(v: RepoView, variant: string | undefined): PlannedFile[] {
  const out: PlannedFile[] = [];
  for (const p of CLIP_ROOT_FILES) {
    const f = v.files.get(p);
    if (f) out.push(planned(f, p));
  }
  let towers = 0;
  for (const base of CLIP_MODELS) {
    const dir = onnxDir(v, base);
    if (dir === undefined) continue;
    const chosen = pickOnnx(v, dir, base, variant);
    if (!chosen) {
      if (base === 'vision_model') throw missingModel(v, dir, base, variant);
      continue;
    }
    towers++;
    const f = v.files.get(chosen);
    if (f) out.push(planned(f, `onnx/${base}.onnx`));
    for (const d of dataFilesOf(v, chosen)) {
      const df = v.files.get(d);
      if (df) out.push(planned(df, `onnx/${path.posix.basename(d)}`));
    }
  }
  if (!out.some((f) => f.local === 'onnx/vision_model.onnx')) throw new UnsupportedLayoutError('no onnx/vision_model.onnx: not a Transformers.js CLIP export');
  if (towers > 0 && out.some((f) => f.local === 'onnx/text_model.onnx') && !out.some((f) => /^(tokenizer\.json|vocab\.json)$/.test(f.local))) {
    throw new UnsupportedLayoutError('the CLIP text tower comes without tokenizer files (tokenizer.json or vocab.json + merges.txt)');
  }
  return out;
}

function planClassifier(v: RepoView, variant: string | undefined): PlannedFile[] {
  const dir = onnxDir(v, 'model');
  const chosen = dir === undefined ? undefined : pickOnnx(v, dir, 'model', variant);
  if (!chosen) throw missingModel(v, dir ?? 'onnx', 'model', variant);
  const out: PlannedFile[] = [];
  const add = (p: string, local: string): void => {
    const f = v.files.get(p);
    if (f) out.push(planned(f, local));
  };
  add(chosen, 'model.onnx');
  for (const d of dataFilesOf(v, chosen)) add(d, path.posix.basename(d));
  for (const p of CLASSIFIER_ROOT_FILES) add(p, p);
  if (!v.files.has('labels.txt') && !v.files.has('config.json')) {
    throw new UnsupportedLayoutError('a classifier needs labels.txt or a config.json with id2label');
  }
  return out;
}

/** The layout the files suggest when --kind is not given. */
export function detectKind(files: readonly HubFile[], subfolder?: string): PullKind {
  const v = view(files, subfolder);
  const has = (re: RegExp): boolean => [...v.files.keys()].some((p) => re.test(p));
  if (v.files.has('model_index.json') || has(/^unet\/[^/]+\.onnx$/)) return 'checkpoint';
  if (has(/^(onnx\/)?vision_model(_\w+)?\.onnx$/)) return 'clip_vision';
  if (has(/^(onnx\/)?model(_\w+)?\.onnx$/)) return 'classifier';
  const sd = has(/^unet\//) || has(/^onnx\/unet\//);
  throw new UnsupportedLayoutError(
    sd ? 'no ONNX U-Net at the top of the repository; if the ONNX pipeline is in a subfolder, pass --subfolder <folder>'
       : 'no supported ONNX layout found (a diffusers ONNX pipeline, a Transformers.js CLIP export, or an ONNX classifier); see docs/models.md',
  );
}

/** The files to download for `kind` (detected when not given), each with its local path. */
export function planPull(files: readonly HubFile[], opts: SelectOptions = {}): PullPlan {
  const v = view(files, opts.subfolder);
  const kind = opts.kind ?? detectKind(files, opts.subfolder);
  const variant = opts.variant && opts.variant !== 'fp32' ? opts.variant : undefined;
  if (variant !== undefined && !/^\w+$/.test(variant)) throw new UnsupportedLayoutError(`variant '${variant}' must be letters, digits or _`);
  switch (kind) {
    case 'checkpoint':
      return { kind, layout: 'diffusers ONNX pipeline', files: planCheckpoint(v, variant) };
    case 'clip_vision':
      return { kind, layout: 'Transformers.js CLIP', files: planClip(v, variant) };
    case 'classifier':
      return { kind, layout: 'ONNX image classifier', files: planClassifier(v, variant) };
  }
}
