import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { A, GraphBuilder, OnnxBuildError } from '../../../toyworld/onnx/builder.js';
import { checkModel } from '../../../toyworld/onnx/check.js';
import { onnxType } from '../../../runtime/onnx-proto.js';
import { floatData } from '../helpers.js';
import { smallGraph } from './helpers.js';

describe('ONNX builder', () => {
  it('writes a valid model that onnxruntime runs, with symbolic dims, the same bytes every time', async () => {
    const bytes = smallGraph().toBytes();
    expect(Buffer.from(smallGraph().toBytes()).equals(Buffer.from(bytes))).toBe(true);
    const summary = checkModel(bytes);
    expect(summary.opset).toBe(17);
    expect(summary.inputs).toEqual(['x']);
    expect(summary.outputs).toEqual(['y']);
    const s = await ort.InferenceSession.create(bytes);
    const out = await s.run({ x: new ort.Tensor('float32', Float32Array.from([1, 0, -1, 0, 1, 0]), [2, 3]) });
    expect(Array.from(floatData(out.y))).toEqual([0, 0, 3, 4]);
    const ModelProto = onnxType('ModelProto');
    const decoded = ModelProto.toObject(ModelProto.decode(bytes), { longs: Number });
    expect(decoded.ir_version).toBe(8);
    expect(decoded.graph.input[0].type.tensor_type.shape.dim[0].dim_param).toBe('batch');
  });

  it('encodes attributes of every kind', async () => {
    const g = new GraphBuilder('attrs');
    g.input('x', 'float32', [1, 1, 4, 4]);
    const p = g.op('AveragePool', ['x'], { kernel_shape: A.ints([2, 2]), strides: A.ints([2, 2]) });
    const l = g.op('LeakyRelu', [g.op('Sub', [p, g.f32('c', [1], [])])], { alpha: A.f(0.5) });
    g.output('y', g.op('Resize', [l, '', g.f32('scales', [1, 1, 2, 2], [4])], { mode: A.s('nearest') }), 'float32', [1, 1, 4, 4]);
    const s = await ort.InferenceSession.create(g.toBytes());
    const out = await s.run({ x: new ort.Tensor('float32', new Float32Array(16).fill(3), [1, 1, 4, 4]) });
    expect(Array.from(floatData(out.y))).toEqual(new Array(16).fill(2));
  });

  it('refuses reads of undefined values, duplicate names and opsets above 17', () => {
    const g = new GraphBuilder('bad');
    g.input('x', 'float32', [1]);
    expect(() => g.op('Relu', ['nope'])).toThrow(OnnxBuildError);
    expect(() => g.input('x', 'float32', [1])).toThrow(OnnxBuildError);
    expect(() => smallGraph().toBytes({ opset: 18 })).toThrow(OnnxBuildError);
  });
});

