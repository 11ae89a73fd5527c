/**
 * The ML runtime's main-thread API. onnxruntime itself lives only in inference workers
 * (onnx-session.ts is deliberately not re-exported: importing it loads the native runtime here).
 */
export { DEFAULT_MEMORY_BUDGET_BYTES, ModelPool } from './model-pool.js';
export type { ModelPoolOptions, ModelPoolStats, PooledSessionStats } from './model-pool.js';
export { DEFAULT_WORKERS, SessionClient } from './session-client.js';
export type { ModelSession, RunOptions, SessionClientOptions, StackingSession } from './session-client.js';
export { ResidentTensor, RowStack, type StackPart } from './resident.js';
export type { SessionFeed, SessionFeeds, TransferChoice } from './send-feeds.js';
export { DEFAULT_INTRA_OP_THREADS } from './onnx-session-options.js';
export type { SessionOptions } from './onnx-session-options.js';
export type { AnyTensor, Dim, ElementType, FeedMap, IoMeta, TensorMap } from './io-meta.js';
export { float32Output, narrowTensor, OutputMismatchError, TensorDataError } from './io-meta.js';
export {
  InferenceAbortedError, InferenceError, ModelLoadError, OutputNotFoundError, OutputTypeError, ResidentTensorError, RuntimeConfigError,
  SessionClosedError, SessionFeedError, UnsafeExternalDataError, WorkerCrashedError,
} from './errors.js';
export { float16ToFloat32, float32ToFloat16, fromHalf, toHalf } from './float16.js';
export { inspectModelFile } from './model-file.js';
export type { ModelFileInfo } from './model-file.js';
export { CPU, DEVICE_KINDS, DeviceDtypeError, DeviceSpecError, DeviceUnavailableError, formatDevice, parseDevice } from './devices.js';
export type { ActiveDevice, Device, DeviceCapabilities, DeviceKind, DeviceRequest } from './devices.js';
