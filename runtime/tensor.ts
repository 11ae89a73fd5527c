/** Element types a tensor can hold; distinct from a model's weight precision (fp32/fp16/q8). */
export type DType = 'float32' | 'float16' | 'int32' | 'int64' | 'uint8' | 'bool';

/** The typed array that backs each element type (float16 as raw IEEE-754 half bit patterns). */
export interface DataOf {
  float32: Float32Array;
  float16: Uint16Array;
  int32: Int32Array;
  int64: BigInt64Array;
  uint8: Uint8Array;
  bool: Uint8Array;
}

/** Thrown when a shape does not match the number of elements or an operation's expectation. */
export class ShapeError extends Error {
  override readonly name = 'ShapeError';
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(`invalid dimension ${d} in shape [${shape.join(', ')}]`);
    n *= d;
  }
  return n;
}

const CTORS = {
  float32: Float32Array,
  float16: Uint16Array,
  int32: Int32Array,
  int64: BigInt64Array,
  uint8: Uint8Array,
  bool: Uint8Array,
} as const;

/**
 * A thin tensor: an element type, a shape and a typed array in row-major order.
 * Treated as immutable by convention: operations return new tensors and never write into their inputs.
 */
export class Tensor<D extends DType = 'float32'> {
  readonly dtype: D;
  readonly shape: readonly number[];
  readonly data: DataOf[D];

  constructor(dtype: D, data: DataOf[D], shape: readonly number[]) {
    const n = sizeOf(shape);
    if (data.length !== n) {
      throw new ShapeError(`${dtype} tensor of shape [${shape.join(', ')}] needs ${n} elements, got ${data.length}`);
    }
    this.dtype = dtype;
    this.data = data;
    this.shape = Object.freeze([...shape]);
  }

  get size(): number {
    return this.data.length;
  }

  /** A view with another shape over the same data. */
  reshape(shape: readonly number[]): Tensor<D> {
    return new Tensor(this.dtype, this.data, shape);
  }

  static zeros<E extends DType = 'float32'>(shape: readonly number[], dtype?: E): Tensor<E> {
    const dt = (dtype ?? 'float32') as E;
    const data = new CTORS[dt](sizeOf(shape)) as DataOf[E];
    return new Tensor(dt, data, shape);
  }

  static float32(data: Float32Array | readonly number[], shape: readonly number[]): Tensor<'float32'> {
    return new Tensor('float32', data instanceof Float32Array ? data : Float32Array.from(data), shape);
  }

  /** Human-readable description used in error messages: `float32[2,4,64,64]`. */
  describe(): string {
    return `${this.dtype}[${this.shape.join(',')}]`;
  }
}
