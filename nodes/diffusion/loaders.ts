/** Model loaders (ComfyUI nodes.py CheckpointLoaderSimple, VAELoader) over ONNX pipeline folders. */
import path from 'node:path';
import { COMBO, containedLexicalPath, defineNode, type Services } from '../../engine/index.js';
import { FOLDERS, MODEL_POOL } from '../../runtime/services.js';
import { CLIP, MODEL, VAE } from '../../sockets/index.js';
import { loadCheckpoint, loadVae } from './checkpoint.js';
import { listPipelineFolders } from '../../runtime/model-folders.js';
import type { SessionSource } from '../../runtime/session-handle.js';

export function sessionSource(services: Services): SessionSource {
  return services.get(MODEL_POOL);
}

function checkpointsDir(services: Services): string {
  return path.join(services.get(FOLDERS).models, 'checkpoints');
}

function vaeDir(services: Services): string {
  return path.join(services.get(FOLDERS).models, 'vae');
}

/** Folders in models/checkpoints/ that hold an ONNX pipeline. */
export function listCheckpoints(services: Services): string[] {
  return listPipelineFolders(checkpointsDir(services), 'unet');
}

/** Standalone VAE folders in models/vae/ (vae_encoder/ and/or vae_decoder/ inside). */
export function listVaes(services: Services): string[] {
  const standalone = [...listPipelineFolders(vaeDir(services), 'vae_decoder'), ...listPipelineFolders(vaeDir(services), 'vae_encoder')];
  return [...new Set(standalone)].sort();
}

export const CheckpointLoaderSimple = defineNode({
  type: 'CheckpointLoaderSimple',
  displayName: 'Load Checkpoint',
  category: 'loaders',
  version: '1.0.0',
  description: 'Loads a diffusion model checkpoint (an ONNX pipeline folder); diffusion models denoise latents.',
  inputs: { ckpt_name: COMBO(listCheckpoints, { tooltip: 'The name of the checkpoint (model) to load.' }) },
  outputs: { MODEL, CLIP, VAE },
  run(ctx, { ckpt_name }) {
    const dir = containedLexicalPath(checkpointsDir(ctx.services), ckpt_name);
    const ck = loadCheckpoint(dir, ckpt_name, sessionSource(ctx.services));
    return { MODEL: ck.model, CLIP: ck.clip, VAE: ck.vae };
  },
});

export const VAELoader = defineNode({
  type: 'VAELoader',
  displayName: 'Load VAE',
  category: 'loaders',
  version: '1.0.0',
  inputs: { vae_name: COMBO(listVaes) },
  outputs: { VAE },
  run(ctx, { vae_name }) {
    const dir = containedLexicalPath(vaeDir(ctx.services), vae_name);
    return { VAE: loadVae(dir, vae_name, sessionSource(ctx.services)) };
  },
});
