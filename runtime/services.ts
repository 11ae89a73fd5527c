import { serviceKey } from '../engine/index.js';
import type { ModelPool } from './model-pool.js';

/** The folders of one latentflow installation (ComfyUI's layout; see docs/architecture.md). */
export interface Folders {
  readonly base: string;
  readonly models: string;
  readonly input: string;
  readonly output: string;
  readonly temp: string;
  readonly data: string;
}

export const FOLDERS = serviceKey<Folders>('folders');

/** The shared, memory-budgeted ONNX session pool (sessions in worker threads). */
export const MODEL_POOL = serviceKey<ModelPool>('model-pool');
