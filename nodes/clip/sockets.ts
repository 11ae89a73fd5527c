/** The sockets only the CLIP family uses (nodes/clip/types.ts). */
import { socket } from '../../engine/index.js';
import { isClipVisionModel, isClipVisionOutput, isImageClassifier, isImageIndex, isScores } from './guards.js';
import type { ClipVisionModel, ClipVisionOutput, ImageClassifierModel, ImageIndex, Scores } from './types.js';

export const CLIP_VISION = socket<ClipVisionModel>('CLIP_VISION', isClipVisionModel);
export const CLIP_VISION_OUTPUT = socket<ClipVisionOutput>('CLIP_VISION_OUTPUT', isClipVisionOutput);
export const CLASSIFIER = socket<ImageClassifierModel>('CLASSIFIER', isImageClassifier);
export const SCORES = socket<Scores>('SCORES', isScores);
export const IMAGE_INDEX = socket<ImageIndex>('IMAGE_INDEX', isImageIndex);
