/**
 * A minimal subset of onnx.proto (github.com/onnx/onnx, onnx/onnx.proto, IR version 10) as protobufjs
 * reflection types: enough to read a graph's inputs/outputs and every tensor's external-data reference.
 * Field numbers are the upstream ones. Tensor payload fields are declared only in the writer variant,
 * so the reader skips weights without copying them.
 */
import protobuf from 'protobufjs';

type FieldJson = { type: string; id: number; rule?: 'repeated'; options?: { packed: boolean } };
const f = (type: string, id: number): FieldJson => ({ type, id });
const rep = (type: string, id: number): FieldJson => ({ type, id, rule: 'repeated' });

function schema(withPayload: boolean): protobuf.INamespace {
  const payload: Record<string, FieldJson> = withPayload
    ? {
        float_data: { ...rep('float', 4), options: { packed: true } },
        int32_data: { ...rep('int32', 5), options: { packed: true } },
        string_data: rep('bytes', 6),
        int64_data: { ...rep('int64', 7), options: { packed: true } },
        raw_data: f('bytes', 9),
        double_data: { ...rep('double', 10), options: { packed: true } },
      }
    : {};
  return {
    nested: {
      onnx: {
        nested: {
          ModelProto: {
            fields: {
              ir_version: f('int64', 1), producer_name: f('string', 2), producer_version: f('string', 3),
              domain: f('string', 4), model_version: f('int64', 5), doc_string: f('string', 6),
              graph: f('GraphProto', 7), opset_import: rep('OperatorSetIdProto', 8),
            },
          },
          OperatorSetIdProto: { fields: { domain: f('string', 1), version: f('int64', 2) } },
          GraphProto: {
            fields: {
              node: rep('NodeProto', 1), name: f('string', 2), initializer: rep('TensorProto', 5),
              sparse_initializer: rep('SparseTensorProto', 15), input: rep('ValueInfoProto', 11),
              output: rep('ValueInfoProto', 12),
            },
          },
          NodeProto: {
            fields: {
              input: rep('string', 1), output: rep('string', 2), name: f('string', 3), op_type: f('string', 4),
              attribute: rep('AttributeProto', 5), domain: f('string', 7),
            },
          },
          AttributeProto: {
            fields: {
              name: f('string', 1), f: f('float', 2), i: f('int64', 3), s: f('bytes', 4), t: f('TensorProto', 5),
              g: f('GraphProto', 6), floats: { ...rep('float', 7), options: { packed: true } },
              ints: { ...rep('int64', 8), options: { packed: true } }, strings: rep('bytes', 9),
              tensors: rep('TensorProto', 10), graphs: rep('GraphProto', 11), type: f('int32', 20),
              sparse_tensor: f('SparseTensorProto', 22), sparse_tensors: rep('SparseTensorProto', 23),
            },
          },
          TensorProto: {
            fields: {
              dims: { ...rep('int64', 1), options: { packed: true } }, data_type: f('int32', 2), name: f('string', 8),
              external_data: rep('StringStringEntryProto', 13), data_location: f('int32', 14), ...payload,
            },
          },
          SparseTensorProto: {
            fields: { values: f('TensorProto', 1), indices: f('TensorProto', 2), dims: { ...rep('int64', 3), options: { packed: true } } },
          },
          StringStringEntryProto: { fields: { key: f('string', 1), value: f('string', 2) } },
          ValueInfoProto: { fields: { name: f('string', 1), type: f('TypeProto', 2) } },
          TypeProto: { fields: { tensor_type: f('TypeProtoTensor', 1) } },
          TypeProtoTensor: { fields: { elem_type: f('int32', 1), shape: f('TensorShapeProto', 2) } },
          TensorShapeProto: { fields: { dim: rep('Dimension', 1) } },
          Dimension: { fields: { dim_value: f('int64', 1), dim_param: f('string', 2) } },
        },
      },
    },
  };
}

/** ONNX `TensorProto.DataLocation.EXTERNAL`. */
export const DATA_LOCATION_EXTERNAL = 1;

/** ONNX `AttributeProto.AttributeType` values used by builders. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7 } as const;

let readerRoot: protobuf.Namespace | undefined;
let writerRoot: protobuf.Namespace | undefined;

/** Types for reading: tensor payloads undeclared, hence skipped. */
export function onnxReaderType(name: string): protobuf.Type {
  readerRoot ??= protobuf.Root.fromJSON(schema(false)).resolveAll();
  return readerRoot.lookupType(`onnx.${name}`);
}

/** Types for writing small models (tests, benchmarks): tensor payloads declared. */
export function onnxWriterType(name: string): protobuf.Type {
  writerRoot ??= protobuf.Root.fromJSON(schema(true)).resolveAll();
  return writerRoot.lookupType(`onnx.${name}`);
}
