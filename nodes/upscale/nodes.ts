/** UpscaleModelLoader and ImageUpscaleWithModel (ComfyUI comfy_extras/nodes_upscale_model.py) over ONNX exports. */
import path from 'node:path';
import { COMBO, containedLexicalPath, defineNode, type Services } from '../../engine/index.js';
import { FOLDERS, MODEL_POOL } from '../../runtime/services.js';
import { IMAGE } from '../../sockets/index.js';
import { scaledSize } from '../../imaging/tiled-scale.js';
import { listOnnxFiles, loadUpscaleModel, upscaleSignature } from './model.js';
import { upscaleImage } from './upscale.js';
import { UPSCALE_MODEL } from './sockets.js';

export function upscaleModelsDir(services: Services): string {
  return path.join(services.get(FOLDERS).models, 'upscale_models');
}

/** The `.onnx` files in models/upscale_models/ (subfolders included), as ComfyUI's file list names them. */
export function listUpscaleModels(services: Services): string[] {
  return listOnnxFiles(upscaleModelsDir(services));
}

export const UpscaleModelLoader = defineNode({
  type: 'UpscaleModelLoader',
  displayName: 'Load Upscale Model',
  category: 'loaders',
  version: '1.0.0',
  inputs: { model_name: COMBO(listUpscaleModels) },
  outputs: { UPSCALE_MODEL },
  // The UPSCALE_MODEL "shape" is [scale], when the graph tells it without running.
  infer: ({ model_name }, _shapes, services) => {
    if (model_name === undefined) return {};
    const sig = upscaleSignature(containedLexicalPath(upscaleModelsDir(services), model_name), model_name);
    const s = sig.staticScale ?? sig.hintScale;
    return s !== undefined && Number.isInteger(s) ? { UPSCALE_MODEL: [s] } : {};
  },
  run(ctx, { model_name }) {
    const file = containedLexicalPath(upscaleModelsDir(ctx.services), model_name);
    return { UPSCALE_MODEL: loadUpscaleModel(file, model_name, ctx.services.get(MODEL_POOL)) };
  },
});

export const ImageUpscaleWithModel = defineNode({
  type: 'ImageUpscaleWithModel',
  displayName: 'Upscale Image (using Model)',
  category: 'image/upscaling',
  version: '1.0.0',
  inputs: { upscale_model: UPSCALE_MODEL, image: IMAGE },
  outputs: { IMAGE },
  infer: (_v, { upscale_model, image }) => {
    const s = upscale_model?.[0];
    if (!image || s === undefined) return {};
    const [b, h, w, c] = image as [number, number, number, number];
    return { IMAGE: [b, scaledSize(h, s), scaledSize(w, s), c] };
  },
  async run(ctx, { upscale_model, image }) {
    const out = await upscaleImage(upscale_model, image, {
      signal: ctx.signal,
      onProgress: (done, total) => ctx.progress(done, total),
      log: (m) => ctx.log(m),
    });
    return { IMAGE: out };
  },
});
