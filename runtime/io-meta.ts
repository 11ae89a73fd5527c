import type { DType } from './tensor.js';
import { Tensor } from './tensor.js';

/** ONNX element types as onnxruntime names them (`Tensor.Type`); a session may declare any of them. */
export type ElementType =
  | 'float32' | 'float16' | 'float64' | 'bfloat16'
  | 'int8' | 'int16' | 'int32' | 'int64'
  | 'uint8' | 'uint16' | 'uint32' | 'uint64'
  | 'bool' | 'string' | 'int4' | 'uint4' | 'unknown';

/** A dimension: a fixed size, or a symbolic name ('?' when the exporter left it unnamed). */
export type Dim = number | string;

/** A declared input or output of a session. */
export interface IoMeta {
  readonly name: string;
  readonly dtype: ElementType;
  /** The declared shape; empty for a scalar, or when `shapeKnown` is false (no shape in the model). */
  readonly shape: readonly Dim[];
  /** False when the model declares no shape at all (any rank accepted). */
  readonly shapeKnown: boolean;
}

/** Any of the tensor element types latentflow holds in memory. */
export type AnyTensor = { [D in DType]: Tensor<D> }[DType];

export type TensorMap = Record<string, AnyTensor>;

export function describeShape(shape: readonly Dim[]): string {
  return `[${shape.join(',')}]`;
}

export function describeMeta(m: IoMeta): string {
  return `${m.name}: ${m.dtype}${m.shapeKnown ? describeShape(m.shape) : '[?...]'}`;
}

export function describeTensor(name: string, t: AnyTensor): string {
  return `${name}: ${t.dtype}${describeShape(t.shape)}`;
}

const ELEMENT_TYPES: readonly ElementType[] = [
  'float32', 'float16', 'float64', 'bfloat16', 'int8', 'int16', 'int32', 'int64',
  'uint8', 'uint16', 'uint32', 'uint64', 'bool', 'string', 'int4', 'uint4',
];

export function toElementType(s: string): ElementType {
  return ELEMENT_TYPES.find((t) => t === s) ?? 'unknown';
}

/** ONNX TensorProto.DataType numbers (onnx.proto) -> element type. */
export function elementTypeFromOnnx(code: number): ElementType {
  const byCode: Record<number, ElementType> = {
    1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string',
    9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 16: 'bfloat16', 21: 'uint4', 22: 'int4',
  };
  return byCode[code] ?? 'unknown';
}

/** What callers may pass: any tensor, including one whose element type is only known at run time. */
export type FeedMap = Readonly<Record<string, Tensor<DType>>>;

/** Thrown when a tensor's data array does not match its declared element type. */
export class TensorDataError extends Error {
  override readonly name = 'TensorDataError';
}

/** Turns a `Tensor<DType>` into the discriminated union, checking that data and dtype agree. */
export function narrowTensor(t: Tensor<DType>): AnyTensor {
  const { dtype, data, shape } = t;
  if (dtype === 'float32' && data instanceof Float32Array) return new Tensor(dtype, data, shape);
  if (dtype === 'float16' && data instanceof Uint16Array) return new Tensor(dtype, data, shape);
  if (dtype === 'int32' && data instanceof Int32Array) return new Tensor(dtype, data, shape);
  if (dtype === 'int64' && data instanceof BigInt64Array) return new Tensor(dtype, data, shape);
  if (dtype === 'uint8' && data instanceof Uint8Array) return new Tensor(dtype, data, shape);
  if (dtype === 'bool' && data instanceof Uint8Array) return new Tensor(dtype, data, shape);
  throw new TensorDataError(`a ${dtype} tensor cannot hold a ${data.constructor.name}`);
}

export function narrowFeeds(feeds: FeedMap): TensorMap {
  const out: TensorMap = {};
  for (const [k, t] of Object.entries(feeds)) out[k] = narrowTensor(t);
  return out;
}

/** An output was missing or not of the element type the caller needs. */
export class OutputMismatchError extends Error {
  override readonly name = 'OutputMismatchError';
}

/** The float32 tensor under `key` of a run result (float outputs always come back as float32). */
export function float32Output(result: TensorMap, key: string): Tensor<'float32'> {
  const t = result[key];
  if (t === undefined) throw new OutputMismatchError(`no output '${key}' in the result (got ${Object.keys(result).join(', ') || 'none'})`);
  if (t.dtype !== 'float32') throw new OutputMismatchError(`output '${key}' is ${t.describe()}, not float32`);
  return t;
}
