/**
 * Loaders for Transformers.js-style CLIP folders (models/clip_vision/<name>/: onnx/vision_model.onnx,
 * onnx/text_model.onnx, tokenizer files, config.json, preprocessor_config.json), ComfyUI's
 * CLIPVisionLoader and CLIPLoader.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { COMBO, containedLexicalPath, defineNode, type Services } from '../../engine/index.js';
import { FOLDERS, MODEL_POOL } from '../../runtime/services.js';
import { CLIP } from '../../sockets/index.js';
import { CLIP_VISION } from './sockets.js';
import { SessionHandle } from '../../runtime/session-handle.js';
import { CPU } from '../../runtime/devices.js';
import type { SessionOptions } from '../../runtime/onnx-session-options.js';
import type { ClipModel } from '../../sockets/index.js';
import { loadClipTokenizer } from '../../tokenizer/index.js';
import { ClipModelError } from './errors.js';
import { CLIP_DEFAULTS, readPreprocessConfig } from './preprocess-config.js';
import type { ClipTextTower, ClipVisionModel } from './types.js';

const VISION_FILES = ['onnx/vision_model.onnx', 'vision_model.onnx'];
const TEXT_FILES = ['onnx/text_model.onnx', 'text_model.onnx'];

function firstExisting(folder: string, rels: readonly string[]): string | undefined {
  return rels.map((r) => path.join(folder, r)).find((p) => existsSync(p));
}

export function clipVisionDir(services: Services): string {
  return path.join(services.get(FOLDERS).models, 'clip_vision');
}

function listFoldersWith(root: string, rels: readonly string[]): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith('.') && firstExisting(path.join(root, d.name), rels) !== undefined)
    .map((d) => d.name)
    .sort();
}

/** CLIP folders in models/clip_vision/ that have a vision tower. */
export function listClipVision(services: Services): string[] {
  return listFoldersWith(clipVisionDir(services), VISION_FILES);
}

/** CLIP folders in models/clip_vision/ that have a text tower. */
export function listClipText(services: Services): string[] {
  return listFoldersWith(clipVisionDir(services), TEXT_FILES);
}

/**
 * exp(logit_scale). NOTE: Hugging Face configs carry only `logit_scale_init_value` (2.6592, the value
 * before training); trained CLIP models end clamped at ln 100, so 100 is the default.
 */
function readLogitScale(folder: string): number {
  const file = path.join(folder, 'config.json');
  if (!existsSync(file)) return 100;
  let cfg: unknown;
  try {
    cfg = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ClipModelError(`cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const v = typeof cfg === 'object' && cfg !== null && 'logit_scale' in cfg ? cfg.logit_scale : undefined;
  return typeof v === 'number' && Number.isFinite(v) ? Math.exp(v) : 100;
}

function textTower(folder: string, services: Services, options?: SessionOptions): ClipTextTower | undefined {
  const file = firstExisting(folder, TEXT_FILES);
  if (!file) return undefined;
  return { session: new SessionHandle(services.get(MODEL_POOL), file, options), tokenizer: loadClipTokenizer(folder) };
}

/** Opens a CLIP folder: sessions load lazily, on first use. */
export function loadClipVision(folder: string, name: string, services: Services): ClipVisionModel {
  const vision = firstExisting(folder, VISION_FILES);
  if (!vision) throw new ClipModelError(`${folder} has no ${VISION_FILES.join(' or ')}`);
  return {
    name,
    folder,
    vision: new SessionHandle(services.get(MODEL_POOL), vision),
    text: textTower(folder, services),
    preprocess: readPreprocessConfig(folder, CLIP_DEFAULTS),
    logitScale: readLogitScale(folder),
    textCache: new Map(),
  };
}

export const CLIPVisionLoader = defineNode({
  type: 'CLIPVisionLoader',
  displayName: 'Load CLIP Vision',
  category: 'loaders',
  version: '1.0.0',
  inputs: { clip_name: COMBO(listClipVision) },
  outputs: { CLIP_VISION },
  run(ctx, { clip_name }) {
    const folder = containedLexicalPath(clipVisionDir(ctx.services), clip_name);
    return { CLIP_VISION: loadClipVision(folder, clip_name, ctx.services) };
  },
});

/** ComfyUI's CLIPLoader `device` choices: the host's device, or the CPU. */
export const CLIP_DEVICES = ['default', 'cpu'] as const;

/** ComfyUI's CLIPLoader types; only the SD 1.x text-encoder framing applies to an ONNX CLIP text tower. */
export const CLIP_LOADER_TYPES = ['stable_diffusion'] as const;

/** The text tower of a CLIP folder as the CLIP socket CLIPTextEncode takes (last_hidden_state + text_embeds). */
export function loadClipText(folder: string, name: string, services: Services, options?: SessionOptions): ClipModel {
  const tower = textTower(folder, services, options);
  if (!tower) throw new ClipModelError(`${folder} has no ${TEXT_FILES.join(' or ')}`);
  return { name, textEncoder: tower.session, tokenizer: tower.tokenizer, layer: -1 };
}

export const CLIPLoader = defineNode({
  type: 'CLIPLoader',
  displayName: 'Load CLIP',
  category: 'advanced/loaders',
  version: '1.0.0',
  description: 'Loads the text tower of a CLIP folder in models/clip_vision/ as a CLIP text encoder.',
  inputs: { clip_name: COMBO(listClipText), type: COMBO(CLIP_LOADER_TYPES) },
  // ComfyUI's CLIPLoader `device` (nodes.py): "cpu" keeps the text encoder off the GPU while the rest runs there.
  optional: { device: COMBO(CLIP_DEVICES, { advanced: true }) },
  outputs: { CLIP },
  run(ctx, { clip_name, device }) {
    const folder = containedLexicalPath(clipVisionDir(ctx.services), clip_name);
    return { CLIP: loadClipText(folder, clip_name, ctx.services, device === 'cpu' ? { device: CPU } : undefined) };
  },
});
