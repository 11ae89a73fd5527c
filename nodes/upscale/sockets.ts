/** The socket only the upscale family uses (nodes/upscale/types.ts). */
import { socket } from '../../engine/index.js';
import { isUpscaleModel, type UpscaleModel } from './types.js';

/** UPSCALE_MODEL: an image-to-image ONNX model from models/upscale_models/. */
export const UPSCALE_MODEL = socket<UpscaleModel>('UPSCALE_MODEL', isUpscaleModel);
