/** The model kinds `models pull/list/verify` handle and their folders under models/ (spec/models.md). */
export const MODEL_KINDS = ['checkpoint', 'clip_vision', 'classifier', 'vae', 'controlnet'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

/** Kinds a pull can produce (a standalone VAE is not pulled on its own). */
export const PULL_KINDS = ['checkpoint', 'clip_vision', 'classifier'] as const;
export type PullKind = (typeof PULL_KINDS)[number];

export const KIND_FOLDERS: Readonly<Record<ModelKind, string>> = {
  checkpoint: 'checkpoints',
  clip_vision: 'clip_vision',
  classifier: 'classifiers',
  vae: 'vae',
  controlnet: 'controlnet',
};

export function isPullKind(v: string): v is PullKind {
  return PULL_KINDS.some((k) => k === v);
}

export function isModelKind(v: string): v is ModelKind {
  return MODEL_KINDS.some((k) => k === v);
}

/** Written into a pulled folder: where it came from (read back by `models list`). */
export const SOURCE_FILE = '.latentflow-pull.json';
