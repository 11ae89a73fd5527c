/** Small graph helpers shared by the toyworld models: constants, reductions, float16 boundaries. */
import { DataType } from '../../runtime/onnx-proto.js';
import { A, elemCode, GraphBuilder, type Dim, type ElemType } from '../onnx/builder.js';

export type FloatIo = 'float32' | 'float16';

export function scalar(g: GraphBuilder, value: number): string {
  return g.f32('c', [value], []);
}

export function reduceSum(g: GraphBuilder, x: string, axes: readonly number[], keepdims: boolean): string {
  return g.op('ReduceSum', [x, g.i64('axes', [...axes])], { keepdims: A.i(keepdims ? 1 : 0) });
}

/** A float graph input; float16 inputs (Olive style) are cast to float32 right away. */
export function floatInput(g: GraphBuilder, name: string, io: FloatIo, dims: readonly Dim[]): string {
  g.input(name, io, dims);
  return io === 'float32' ? name : g.op('Cast', [name], { to: A.i(DataType.FLOAT) });
}

/** A float graph output, cast to float16 when the model's I/O is float16. */
export function floatOutput(g: GraphBuilder, name: string, value: string, io: FloatIo, dims: readonly Dim[]): void {
  const v = io === 'float32' ? value : g.op('Cast', [value], { to: A.i(DataType.FLOAT16) });
  g.output(name, v, io, dims);
}

export function cast(g: GraphBuilder, x: string, to: ElemType): string {
  return g.op('Cast', [x], { to: A.i(elemCode(to)) });
}

/** x / max(||x||_2 over the last axis, 1e-12). */
export function l2Normalize(g: GraphBuilder, x: string): string {
  const n = g.op('ReduceL2', [x], { axes: A.ints([-1]), keepdims: A.i(1) });
  return g.op('Div', [x, g.op('Max', [n, scalar(g, 1e-12)])]);
}
