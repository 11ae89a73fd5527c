/** The upscale-model family: ONNX image-to-image models (ESRGAN, Real-ESRGAN, SwinIR exports) from models/upscale_models/. */
import { ImageUpscaleWithModel, UpscaleModelLoader } from './nodes.js';

export const UPSCALE_NODES = [UpscaleModelLoader, ImageUpscaleWithModel];

export { ImageUpscaleWithModel, UpscaleModelLoader, listUpscaleModels } from './nodes.js';
export { loadUpscaleModel, upscaleSignature } from './model.js';
export { upscaleImage, isOutOfMemory, UpscaleSizeError, UPSCALE_TILE, UPSCALE_OVERLAP, MIN_UPSCALE_TILE, MAX_UPSCALE_SIDE } from './upscale.js';
export { UPSCALE_MODEL } from './sockets.js';
export { UpscaleModelError } from './errors.js';
export { isUpscaleModel, type UpscaleModel, type UpscaleGeometry } from './types.js';
export type { UpscaleSignature } from './signature.js';
