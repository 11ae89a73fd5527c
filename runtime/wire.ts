/** Messages between the main thread and inference workers; tensors travel as transferable buffers. */
import type { WireError } from './errors.js';
import type { AnyTensor, IoMeta, TensorMap } from './io-meta.js';
import type { SessionOptions } from './onnx-session-options.js';
import type { Device, DeviceCapabilities } from './devices.js';
import type { DType } from './tensor.js';
import type { WeightPatch } from './weight-patch.js';
import { Tensor } from './tensor.js';

export interface WireTensor {
  dtype: DType;
  shape: number[];
  buffer: ArrayBuffer;
  byteOffset: number;
  length: number;
}

export type OutputGroups = readonly (readonly string[])[];

/** Rows `[from, to)` of a tensor the worker holds (see resident-store.ts), or rows sent inline. */
export type WirePart = { handle: number; from: number; to: number } | { tensor: WireTensor };

/** A feed the worker assembles by concatenating parts along the batch axis. */
export interface WireRows {
  dtype: DType;
  /** Shape of the assembled feed. */
  shape: number[];
  parts: WirePart[];
}

export type ToWorker =
  /** `patch`: weights to change before the session is created (LoRA deltas, new embedding rows). */
  | { type: 'load'; id: number; path: string; options: SessionOptions; patch?: WeightPatch }
  | { type: 'run'; id: number; sessionId: number; feeds: Record<string, WireTensor>; rows?: Record<string, WireRows>; outputs?: OutputGroups }
  | { type: 'release'; id: number; sessionId: number }
  /** Stores a tensor in the worker for later runs to name by handle. */
  | { type: 'keep'; id: number; tensor: WireTensor }
  | { type: 'drop'; id: number; handles: number[] }
  /** Checks that a device can run a model (onnx-session.ts probeDevice). */
  | { type: 'probe'; id: number; device: Device }
  /** Fault drill: the worker throws an uncaught error and dies (tests and crash-recovery checks). */
  | { type: 'crash' };

export type FromWorker =
  | { type: 'loaded'; id: number; sessionId: number; inputs: IoMeta[]; outputs: IoMeta[]; bytes: number }
  | { type: 'result'; id: number; tensors: Record<string, WireTensor> }
  | { type: 'released'; id: number }
  | { type: 'kept'; id: number; handle: number }
  | { type: 'dropped'; id: number }
  | { type: 'probed'; id: number; capabilities: DeviceCapabilities }
  | { type: 'error'; id: number; error: WireError };

/**
 * Packs tensors for postMessage. With `copy`, each gets a fresh buffer so the caller's arrays stay
 * usable; without, buffers that the tensor alone spans are handed over (detached here).
 */
export function packTensors(tensors: TensorMap, copy: boolean): { wire: Record<string, WireTensor>; transfer: ArrayBuffer[] } {
  const wire: Record<string, WireTensor> = {};
  const transfer: ArrayBuffer[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    const d = t.data;
    const whole = d.byteOffset === 0 && d.byteLength === d.buffer.byteLength && d.buffer instanceof ArrayBuffer;
    const owned = copy || !whole || transfer.includes(d.buffer) ? d.slice() : d;
    const buffer = owned.buffer;
    if (!(buffer instanceof ArrayBuffer)) throw new TypeError('typed array slice did not allocate an ArrayBuffer');
    wire[name] = { dtype: t.dtype, shape: [...t.shape], buffer, byteOffset: owned.byteOffset, length: owned.length };
    transfer.push(buffer);
  }
  return { wire, transfer };
}

export function unpackTensor(w: WireTensor): AnyTensor {
  const { buffer: b, byteOffset: o, length: n, shape } = w;
  switch (w.dtype) {
    case 'float32': return new Tensor('float32', new Float32Array(b, o, n), shape);
    case 'float16': return new Tensor('float16', new Uint16Array(b, o, n), shape);
    case 'int32': return new Tensor('int32', new Int32Array(b, o, n), shape);
    case 'int64': return new Tensor('int64', new BigInt64Array(b, o, n), shape);
    case 'uint8': return new Tensor('uint8', new Uint8Array(b, o, n), shape);
    case 'bool': return new Tensor('bool', new Uint8Array(b, o, n), shape);
  }
}

export function unpackTensors(wire: Record<string, WireTensor>): TensorMap {
  const out: TensorMap = {};
  for (const [name, w] of Object.entries(wire)) out[name] = unpackTensor(w);
  return out;
}
