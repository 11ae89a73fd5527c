/**
 * The smallest model that proves a device works: `y = x + x` over float32 [1, 4]. Probing with a real
 * run (not only session creation) catches providers that load but cannot execute, such as a WebGPU
 * adapter that is found but then lost.
 */
import { DataType, onnxType } from './onnx-proto.js';

export const PROBE_INPUT = 'x';
export const PROBE_OUTPUT = 'y';

function tensorInfo(name: string): object {
  return { name, type: { tensor_type: { elem_type: DataType.FLOAT, shape: { dim: [{ dim_value: 1 }, { dim_value: 4 }] } } } };
}

/**
 * With `float16`, `y = float32(float16(x) + float16(x))`: WebGPU adapters without the shader-f16 feature
 * (SwiftShader among them) cannot compile it, and then no float16 model runs there either.
 */
export function probeModelBytes(float16 = false): Uint8Array {
  const model = onnxType('ModelProto');
  const cast = (input: string, output: string, to: number) => ({
    input: [input], output: [output], name: output, op_type: 'Cast', domain: '', attribute: [{ name: 'to', type: 2, i: to }],
  });
  const nodes = float16
    ? [cast(PROBE_INPUT, 'h', DataType.FLOAT16), { input: ['h', 'h'], output: ['h2'], name: 'add', op_type: 'Add', domain: '' }, cast('h2', PROBE_OUTPUT, DataType.FLOAT)]
    : [{ input: [PROBE_INPUT, PROBE_INPUT], output: [PROBE_OUTPUT], name: 'add', op_type: 'Add', domain: '' }];
  return model.encode(model.fromObject({
    ir_version: 8,
    opset_import: [{ domain: '', version: 17 }],
    producer_name: 'latentflow-device-probe',
    graph: {
      name: 'probe',
      node: nodes,
      input: [tensorInfo(PROBE_INPUT)],
      output: [tensorInfo(PROBE_OUTPUT)],
    },
  })).finish();
}
