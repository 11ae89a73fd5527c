/**
 * ControlNetLoader (ComfyUI nodes.py ControlNetLoader) over ONNX ControlNets in onnx-web's layout:
 * models/controlnet/<name>/model.onnx with diffusers' config.json beside it. Loaded once per folder and
 * session source; the session opens on first use.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { COMBO, containedLexicalPath, defineNode, type Services } from '../../engine/index.js';
import { FOLDERS, MODEL_POOL } from '../../runtime/services.js';
import { componentModel, listPipelineFolders } from '../../runtime/model-folders.js';
import { SessionHandle, type SessionSource } from '../../runtime/session-handle.js';
import { UNetQueue } from '../../runtime/batching/unet-queue.js';
import type { ControlNetModel } from '../../sockets/index.js';
import { CONTROL_NET } from './sockets.js';

/** Thrown when a ControlNet folder is missing or unreadable. */
export class ControlNetLoadError extends Error {
  override readonly name = 'ControlNetLoadError';
}

export function controlNetDir(services: Services): string {
  return path.join(services.get(FOLDERS).models, 'controlnet');
}

/** Folders in models/controlnet/ holding a model.onnx. */
export function listControlNets(services: Services): string[] {
  return listPipelineFolders(controlNetDir(services), 'model.onnx');
}

function crossAttentionDim(dir: string, name: string): number | undefined {
  const file = path.join(dir, 'config.json');
  if (!existsSync(file)) return undefined;
  let cfg: unknown;
  try {
    cfg = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ControlNetLoadError(`ControlNet '${name}': ${file} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  const v = typeof cfg === 'object' && cfg !== null && 'cross_attention_dim' in cfg ? cfg.cross_attention_dim : undefined;
  return typeof v === 'number' ? v : undefined;
}

const loaded = new WeakMap<SessionSource, Map<string, ControlNetModel>>();

export function loadControlNet(dir: string, name: string, source: SessionSource): ControlNetModel {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ControlNetLoadError(`ControlNet '${name}' not found (${dir})`);
  const file = componentModel(dir);
  if (!file) throw new ControlNetLoadError(`ControlNet '${name}' has no model.onnx in ${dir}`);
  let bySource = loaded.get(source);
  if (!bySource) loaded.set(source, (bySource = new Map()));
  const key = path.resolve(dir);
  const hit = bySource.get(key);
  if (hit) return hit;
  const session = new SessionHandle(source, file);
  const model: ControlNetModel = { name, session, queue: new UNetQueue(session, {}, 'all'), crossAttentionDim: crossAttentionDim(dir, name) };
  bySource.set(key, model);
  return model;
}

export const ControlNetLoader = defineNode({
  type: 'ControlNetLoader',
  displayName: 'Load ControlNet Model',
  category: 'loaders',
  version: '1.0.0',
  inputs: { control_net_name: COMBO(listControlNets) },
  outputs: { CONTROL_NET },
  run(ctx, { control_net_name }) {
    const dir = containedLexicalPath(controlNetDir(ctx.services), control_net_name);
    return { CONTROL_NET: loadControlNet(dir, control_net_name, ctx.services.get(MODEL_POOL)) };
  },
});
