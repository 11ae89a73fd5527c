import type { IoMeta, TensorMap } from './io-meta.js';
import { describeMeta, describeTensor } from './io-meta.js';
import { DeviceDtypeError, DeviceUnavailableError } from './devices.js';

/** The feeds do not fit the session's declared inputs (name, element type or shape). */
export class SessionFeedError extends Error {
  override readonly name = 'SessionFeedError';
}

/** None of the requested names matches a declared output. */
export class OutputNotFoundError extends Error {
  override readonly name = 'OutputNotFoundError';
}

/** The model file could not be read, parsed or loaded by onnxruntime. */
export class ModelLoadError extends Error {
  override readonly name = 'ModelLoadError';
}

/** An initializer's external data points outside the model's folder (CVE-2022-25882). */
export class UnsafeExternalDataError extends Error {
  override readonly name = 'UnsafeExternalDataError';
}

/** onnxruntime failed while running a session. */
export class InferenceError extends Error {
  override readonly name = 'InferenceError';
}

/** The worker hosting a session died; calls that were pending on it are rejected with this. */
export class WorkerCrashedError extends Error {
  override readonly name = 'WorkerCrashedError';
}

/** The pool or client was closed before the call could run. */
export class SessionClosedError extends Error {
  override readonly name = 'SessionClosedError';
}

/** The caller's AbortSignal fired before the result arrived. */
export class InferenceAbortedError extends Error {
  override readonly name = 'InferenceAbortedError';
}

/** A feed names a resident tensor its worker does not hold, or its rows do not fit together. */
export class ResidentTensorError extends Error {
  override readonly name = 'ResidentTensorError';
}

/** An output's element type has no latentflow tensor counterpart (e.g. string). */
export class OutputTypeError extends Error {
  override readonly name = 'OutputTypeError';
}

/** A pool or client option is out of range. */
export class RuntimeConfigError extends Error {
  override readonly name = 'RuntimeConfigError';
}

/** Lists what the session declares and what the caller passed, so a mismatch is visible at once. */
export function feedReport(inputs: readonly IoMeta[], feeds: TensorMap): string {
  const declared = inputs.map((m) => `  ${describeMeta(m)}`).join('\n');
  const passed = Object.entries(feeds).map(([n, t]) => `  ${describeTensor(n, t)}`).join('\n');
  return `declared inputs:\n${declared || '  (none)'}\npassed:\n${passed || '  (none)'}`;
}

export function feedError(problem: string, inputs: readonly IoMeta[], feeds: TensorMap): SessionFeedError {
  return new SessionFeedError(`${problem}\n${feedReport(inputs, feeds)}`);
}

export function outputNotFound(wanted: readonly string[], outputs: readonly IoMeta[]): OutputNotFoundError {
  const names = wanted.map((w) => `'${w}'`).join(' or ');
  return new OutputNotFoundError(`no output named ${names}; declared outputs: ${outputs.map(describeMeta).join(', ')}`);
}

/** A weight patch (LoRA, new embedding rows) that does not fit its model; names the file and the key. */
export class WeightPatchError extends Error {
  override readonly name = 'WeightPatchError';
}

/** A file that is not a well-formed safetensors file; the message names the file and the key. */
export class SafetensorsError extends Error {
  override readonly name = 'SafetensorsError';
}

/** A serialisable form of an error, for crossing the worker boundary. */
export interface WireError {
  name: string;
  message: string;
}

const ERROR_CLASSES: Record<string, new (message: string) => Error> = {
  SessionFeedError,
  OutputNotFoundError,
  ModelLoadError,
  UnsafeExternalDataError,
  InferenceError,
  OutputTypeError,
  WorkerCrashedError,
  SessionClosedError,
  ResidentTensorError,
  DeviceUnavailableError,
  DeviceDtypeError,
  WeightPatchError,
  SafetensorsError,
};

export function toWireError(e: unknown): WireError {
  if (e instanceof Error) return { name: e.name, message: e.message };
  return { name: 'InferenceError', message: String(e) };
}

/** Rebuilds the named error class on this side of the worker boundary (InferenceError when unknown). */
export function fromWireError(w: WireError): Error {
  const Ctor = ERROR_CLASSES[w.name] ?? InferenceError;
  return new Ctor(w.message);
}
