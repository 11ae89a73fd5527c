import { availableParallelism } from 'node:os';

/** Options for creating onnxruntime sessions (CPU execution provider). */
export interface SessionOptions {
  /** Threads for one operator; defaults to every core (each worker runs one call at a time). */
  intraOpNumThreads?: number;
  /** Pin symbolic dims (e.g. { batch: 2, height: 64 }) so onnxruntime can plan memory and kernels. */
  freeDimensionOverrides?: Record<string, number>;
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
}

export const DEFAULT_INTRA_OP_THREADS = Math.max(1, availableParallelism());
