/** The values CLIP-family nodes pass along their sockets (CLIP_VISION, CLIP_VISION_OUTPUT, CLASSIFIER, ...). */
import type { Tensor } from '../../runtime/tensor.js';
import type { ClipTokenizer } from '../../tokenizer/index.js';
import type { SessionHandle } from '../../runtime/session-handle.js';
import type { PreprocessConfig } from './preprocess-config.js';

/** A Transformers.js-style CLIP folder: the vision tower, and the text tower when the folder has one. */
export interface ClipVisionModel {
  readonly name: string;
  readonly folder: string;
  readonly vision: SessionHandle;
  readonly text?: ClipTextTower;
  readonly preprocess: PreprocessConfig;
  /** exp(logit_scale) from config.json (CLIP's learned temperature; 100 for trained models). */
  readonly logitScale: number;
  /** Embeddings of texts already encoded, keyed by text (zero-shot labels repeat across runs). */
  readonly textCache: Map<string, Float32Array>;
}

export interface ClipTextTower {
  readonly session: SessionHandle;
  readonly tokenizer: ClipTokenizer;
}

/** ComfyUI's CLIP_VISION_OUTPUT: the image embeddings (unnormalised, as the export returns them). */
export interface ClipVisionOutput {
  /** [B, P] */
  readonly image_embeds: Tensor;
  /** [B, tokens, hidden] when the export has it. */
  readonly last_hidden_state?: Tensor;
  /** Which model produced it, so embeddings of different spaces are never compared. */
  readonly model: string;
}

/** Any ONNX image classifier folder: model.onnx, labels.txt, optional preprocessor_config.json. */
export interface ImageClassifierModel {
  readonly name: string;
  readonly session: SessionHandle;
  readonly labels: readonly string[];
  readonly preprocess: PreprocessConfig;
}

/** SCORES: one row per image (or query), one column per label; `values` is row-major. */
export interface Scores {
  readonly labels: readonly string[];
  readonly rows: number;
  readonly values: Float32Array;
  /** softmax probabilities, or raw cosine similarities. */
  readonly kind: 'probability' | 'similarity';
}

/** One file of an image index. */
export interface IndexEntry {
  /** Relative to the index root, with forward slashes. */
  readonly file: string;
  /** sha256 of the file's bytes. */
  readonly hash: string;
  readonly size: number;
  readonly mtimeMs: number;
}

/** IMAGE_INDEX: L2-normalised image embeddings of every image under a folder. */
export interface ImageIndex {
  readonly name: string;
  readonly root: string;
  readonly model: string;
  readonly dim: number;
  readonly entries: readonly IndexEntry[];
  /** entries.length x dim, row i belongs to entries[i]. */
  readonly vectors: Float32Array;
}
