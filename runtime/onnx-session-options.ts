import { availableParallelism } from 'node:os';
import type { Device } from './devices.js';

/** Options for creating onnxruntime sessions. */
export interface SessionOptions {
  /** Execution provider (default: the CPU). Operators the provider lacks run on the CPU, as onnxruntime places them. */
  device?: Device;
  /** False when the device's probe found no float16 support: float16 models are refused before loading. */
  deviceFloat16?: boolean;
  /** Threads for one operator; defaults to DEFAULT_INTRA_OP_THREADS. */
  intraOpNumThreads?: number;
  /** Pin symbolic dims (e.g. { batch: 2, height: 64 }) so onnxruntime can plan memory and kernels. */
  freeDimensionOverrides?: Record<string, number>;
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
}

/**
 * NOTE: one core is left to the main thread. Measured on the shared 2-core box
 * (bench/runtime-responsiveness): a 1024x1024 MatMul chain in a worker took 1.1 s with 1 thread
 * (main-thread timer lag p99 9 ms) and 2.3 s with 2 threads (p99 42 ms) under load; on an idle
 * machine 2 threads are faster, so `intraOpNumThreads` stays configurable.
 */
export const DEFAULT_INTRA_OP_THREADS = Math.max(1, availableParallelism() - 1);
