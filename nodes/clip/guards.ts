/** Runtime guards for the CLIP-family socket values (nodes/clip/sockets.ts). */
import { Tensor } from '../../runtime/tensor.js';
import { SessionHandle } from '../../runtime/session-handle.js';
import type { ClipVisionModel, ClipVisionOutput, ImageClassifierModel, ImageIndex, Scores } from './types.js';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

export function isClipVisionModel(v: unknown): v is ClipVisionModel {
  return isObj(v) && v.vision instanceof SessionHandle && isObj(v.preprocess) && typeof v.logitScale === 'number';
}

export function isClipVisionOutput(v: unknown): v is ClipVisionOutput {
  return isObj(v) && v.image_embeds instanceof Tensor && v.image_embeds.shape.length === 2 && typeof v.model === 'string';
}

export function isImageClassifier(v: unknown): v is ImageClassifierModel {
  return isObj(v) && v.session instanceof SessionHandle && Array.isArray(v.labels) && isObj(v.preprocess);
}

export function isScores(v: unknown): v is Scores {
  return isObj(v) && Array.isArray(v.labels) && v.values instanceof Float32Array && typeof v.rows === 'number';
}

export function isImageIndex(v: unknown): v is ImageIndex {
  return isObj(v) && typeof v.root === 'string' && Array.isArray(v.entries) && v.vectors instanceof Float32Array && typeof v.dim === 'number';
}
