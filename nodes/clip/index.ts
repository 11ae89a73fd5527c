/** The CLIP node family: CLIP vision and text loaders, zero-shot and generic classification, image index and search, rerank, unCLIP. */
import { CLIPLoader, CLIPVisionLoader } from './loaders.js';
import { CLIPVisionEncode } from './vision-encode.js';
import { ZeroShotClassifier } from './zero-shot.js';
import { ImageClassifierLoader, ImageClassify } from './classifier.js';
import { ImageIndexNode, ImageSearch } from './index-nodes.js';
import { CLIPRerank } from './rerank.js';
import { unCLIPConditioning } from './unclip.js';

export const CLIP_NODES = [
  CLIPVisionLoader, CLIPLoader, CLIPVisionEncode, unCLIPConditioning,
  ZeroShotClassifier, ImageClassifierLoader, ImageClassify, ImageIndexNode, ImageSearch, CLIPRerank,
];

export { loadClipVision, loadClipText, listClipVision, listClipText } from './loaders.js';
export { encodeImages, encodeTexts, embedPixels } from './embed.js';
export { pixelValues, shortestEdgeSize, type CropMode } from './preprocess.js';
export { CLIP_DEFAULTS, imagenetDefaults, parsePreprocessConfig, readPreprocessConfig, type PreprocessConfig } from './preprocess-config.js';
export { zeroShotScores, parseLabels, fillTemplate, bestLabels } from './zero-shot.js';
export { classifyImages, loadClassifier } from './classifier.js';
export { indexFolder, embedFiles, searchIndex, queryVector, type SearchHit } from './index-nodes.js';
export { readIndex, indexDir, listIndexes, readManifestRoot, updateIndex } from './index-store.js';
export { applyUnclip, hasUnclip, type UnclipCondEntry, type UnclipInput } from './unclip.js';
export { ClipModelError, PreprocessConfigError, ImageIndexError } from './errors.js';
export type * from './types.js';
export { rankImages, selectRows } from './rerank.js';
