/**
 * The ONNX files of an installed model folder and their roles, found the way the loaders find them
 * (nodes/diffusion/checkpoint.ts `componentModel`, nodes/clip/loaders.ts, classifier.ts), plus the
 * folder-level gaps that would stop a loader (no tokenizer, no labels).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { componentModel } from '../runtime/model-folders.js';
import type { ComponentRole } from './drivability.js';
import { ModelNotFoundError, ModelSpecError } from './errors.js';
import { KIND_FOLDERS, MODEL_KINDS, isModelKind, type ModelKind } from './kinds.js';

export interface Component {
  readonly role: ComponentRole;
  /** Absolute path of the .onnx file. */
  readonly file: string;
}

export interface FolderScan {
  readonly components: readonly Component[];
  /** Gaps that stop the loader (missing required parts). */
  readonly problems: readonly string[];
  readonly notes: readonly string[];
  /** Number of lines in labels.txt (classifiers). */
  readonly labels?: number;
}

const hasTokenizer = (dir: string): boolean =>
  existsSync(path.join(dir, 'tokenizer.json')) || (existsSync(path.join(dir, 'vocab.json')) && existsSync(path.join(dir, 'merges.txt')));

function scanCheckpoint(dir: string): FolderScan {
  const components: Component[] = [];
  const problems: string[] = [];
  const notes: string[] = [];
  const roles: [ComponentRole, string, boolean][] = [
    ['unet', 'unet', true], ['text_encoder', 'text_encoder', true], ['text_encoder_2', 'text_encoder_2', false],
    ['vae_encoder', 'vae_encoder', false], ['unet_residual', 'cnet', false], ['vae_decoder', existsSync(path.join(dir, 'vae_decoder')) ? 'vae_decoder' : 'vae', true],
  ];
  // The SDXL refiner has text_encoder_2/ alone.
  const second = componentModel(path.join(dir, 'text_encoder_2')) !== undefined;
  for (const [role, sub, required] of roles) {
    const file = componentModel(path.join(dir, sub));
    if (file) components.push({ role, file });
    else if (required && !(role === 'text_encoder' && second)) problems.push(`no ${sub}/model.onnx`);
  }
  if (second && !hasTokenizer(path.join(dir, 'tokenizer_2'))) problems.push('text_encoder_2/ without tokenizer_2/ (vocab.json + merges.txt or tokenizer.json)');
  if (!components.some((c) => c.role === 'vae_encoder')) notes.push('no vae_encoder: VAEEncode (img2img, inpainting) is unavailable');
  const tok = existsSync(path.join(dir, 'tokenizer')) ? path.join(dir, 'tokenizer') : dir;
  if (components.some((c) => c.role === 'text_encoder') && !hasTokenizer(tok)) problems.push('no tokenizer (tokenizer/vocab.json + merges.txt or tokenizer.json)');
  if (!existsSync(path.join(dir, 'scheduler', 'scheduler_config.json'))) notes.push('no scheduler/scheduler_config.json: SD 1.x betas and eps prediction are assumed');
  return { components, problems, notes };
}

function firstExisting(dir: string, rels: readonly string[]): string | undefined {
  return rels.map((r) => path.join(dir, r)).find((p) => existsSync(p));
}

function scanClip(dir: string): FolderScan {
  const components: Component[] = [];
  const problems: string[] = [];
  const vision = firstExisting(dir, ['onnx/vision_model.onnx', 'vision_model.onnx']);
  const text = firstExisting(dir, ['onnx/text_model.onnx', 'text_model.onnx']);
  const combined = firstExisting(dir, ['onnx/model.onnx']);
  if (vision) components.push({ role: 'clip_vision', file: vision });
  else problems.push('no onnx/vision_model.onnx');
  if (text) components.push({ role: 'clip_text', file: text });
  if (combined) components.push({ role: 'clip_combined', file: combined });
  if (text && !hasTokenizer(dir)) problems.push('the text tower has no tokenizer (tokenizer.json or vocab.json + merges.txt)');
  return { components, problems, notes: text ? [] : ['no onnx/text_model.onnx: zero-shot labels and CLIPLoader are unavailable'] };
}

function scanClassifier(dir: string): FolderScan {
  const model = path.join(dir, 'model.onnx');
  const labelsFile = path.join(dir, 'labels.txt');
  const problems: string[] = [];
  if (!existsSync(model)) problems.push('no model.onnx');
  let labels: number | undefined;
  if (existsSync(labelsFile)) labels = readFileSync(labelsFile, 'utf8').split('\n').filter((l) => l.trim() !== '').length;
  else problems.push('no labels.txt');
  return { components: existsSync(model) ? [{ role: 'classifier', file: model }] : [], problems, notes: [], labels };
}

function scanVae(dir: string): FolderScan {
  const components: Component[] = [];
  const enc = componentModel(path.join(dir, 'vae_encoder'));
  const dec = componentModel(path.join(dir, existsSync(path.join(dir, 'vae_decoder')) ? 'vae_decoder' : 'vae'));
  if (enc) components.push({ role: 'vae_encoder', file: enc });
  if (dec) components.push({ role: 'vae_decoder', file: dec });
  return { components, problems: components.length ? [] : ['neither vae_encoder/ nor vae_decoder/ holds an ONNX model'], notes: [] };
}

function scanControlNet(dir: string): FolderScan {
  const model = componentModel(dir);
  const notes = existsSync(path.join(dir, 'config.json')) ? [] : ['no config.json: the SD1.x/SDXL check on apply is skipped'];
  return { components: model ? [{ role: 'controlnet', file: model }] : [], problems: model ? [] : ['no model.onnx'], notes };
}

export function scanFolder(kind: ModelKind, dir: string): FolderScan {
  switch (kind) {
    case 'checkpoint': return scanCheckpoint(dir);
    case 'clip_vision': return scanClip(dir);
    case 'classifier': return scanClassifier(dir);
    case 'vae': return scanVae(dir);
    case 'controlnet': return scanControlNet(dir);
  }
}

export interface InstalledRef {
  readonly kind: ModelKind;
  readonly name: string;
  readonly dir: string;
}

/** Every model folder under models/<kind folder>/ (names starting with '.' are skipped). */
export function installedFolders(modelsDir: string): InstalledRef[] {
  const out: InstalledRef[] = [];
  for (const kind of MODEL_KINDS) {
    const root = path.join(modelsDir, KIND_FOLDERS[kind]);
    if (!existsSync(root)) continue;
    for (const name of readdirSync(root).sort()) {
      const dir = path.join(root, name);
      if (!name.startsWith('.') && statSync(dir).isDirectory()) out.push({ kind, name, dir });
    }
  }
  return out;
}

/**
 * Installed models called `name`, or `<kind>/<name>` / `<kind folder>/<name>` for one kind (toyworld has a
 * checkpoint and a classifier both named toyworld-shapes).
 */
export function findInstalled(modelsDir: string, name: string): InstalledRef[] {
  const slash = name.indexOf('/');
  const all = installedFolders(modelsDir);
  let hits: InstalledRef[];
  if (slash >= 0) {
    const k = name.slice(0, slash);
    const kind = isModelKind(k) ? k : MODEL_KINDS.find((m) => KIND_FOLDERS[m] === k);
    if (!kind) throw new ModelSpecError(`'${k}' is not a model kind (${MODEL_KINDS.join(', ')})`);
    hits = all.filter((r) => r.kind === kind && r.name === name.slice(slash + 1));
  } else {
    hits = all.filter((r) => r.name === name);
  }
  if (hits.length === 0) {
    const names = [...new Set(all.map((r) => r.name))];
    throw new ModelNotFoundError(`no installed model '${name}' in ${modelsDir}${names.length ? ` (installed: ${names.join(', ')})` : ''}`);
  }
  return hits;
}
