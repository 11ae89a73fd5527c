/**
 * The one description of the ONNX file format in latentflow: the subset of onnx.proto
 * (github.com/onnx/onnx, onnx/onnx.proto, IR version 10) that latentflow reads and writes, as a protobufjs
 * JSON descriptor. Field names, numbers, nesting and packing are the upstream ones (proto2: `dims`,
 * `floats` and `ints` unpacked, the typed tensor payloads packed), so written files are ordinary ONNX
 * files and decoded objects carry onnx.proto's snake_case names.
 * The runtime reads model files with the payload fields left out (onnxReaderType), so weights are skipped
 * instead of copied; toyworld and the tests write models with the full types (onnxType, via
 * toyworld/onnx/builder.ts).
 */
import protobuf from 'protobufjs';

/** TensorProto.DataType. */
export const DataType = {
  UNDEFINED: 0, FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8, BOOL: 9,
  FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, COMPLEX64: 14, COMPLEX128: 15, BFLOAT16: 16,
  FLOAT8E4M3FN: 17, FLOAT8E4M3FNUZ: 18, FLOAT8E5M2: 19, FLOAT8E5M2FNUZ: 20, UINT4: 21, INT4: 22,
} as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

/** AttributeProto.AttributeType. */
export const AttributeType = {
  UNDEFINED: 0, FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, SPARSE_TENSOR: 11, TYPE_PROTO: 13,
  FLOATS: 6, INTS: 7, STRINGS: 8, TENSORS: 9, GRAPHS: 10, SPARSE_TENSORS: 12, TYPE_PROTOS: 14,
} as const;

/** TensorProto.DataLocation. */
export const DataLocation = { DEFAULT: 0, EXTERNAL: 1 } as const;

type FieldJson = { type: string; id: number; rule?: 'repeated'; options?: { packed: boolean } };
const f = (type: string, id: number): FieldJson => ({ type, id });
const rep = (type: string, id: number): FieldJson => ({ type, id, rule: 'repeated' });
/** `[packed = true]` in onnx.proto; repeated scalars without it are unpacked, as proto2 defaults. */
const packed = (type: string, id: number): FieldJson => ({ type, id, rule: 'repeated', options: { packed: true } });

/** TensorProto fields that hold the weights themselves. */
const TENSOR_PAYLOAD: Record<string, FieldJson> = {
  float_data: packed('float', 4),
  int32_data: packed('int32', 5),
  string_data: rep('bytes', 6),
  int64_data: packed('int64', 7),
  raw_data: f('bytes', 9),
  double_data: packed('double', 10),
  uint64_data: packed('uint64', 11),
};

function descriptor(withPayload: boolean): protobuf.INamespace {
  return {
    nested: {
      onnx: {
        nested: {
          ModelProto: {
            fields: {
              ir_version: f('int64', 1), opset_import: rep('OperatorSetIdProto', 8), producer_name: f('string', 2),
              producer_version: f('string', 3), domain: f('string', 4), model_version: f('int64', 5),
              doc_string: f('string', 6), graph: f('GraphProto', 7),
            },
          },
          OperatorSetIdProto: { fields: { domain: f('string', 1), version: f('int64', 2) } },
          GraphProto: {
            fields: {
              node: rep('NodeProto', 1), name: f('string', 2), initializer: rep('TensorProto', 5),
              sparse_initializer: rep('SparseTensorProto', 15), doc_string: f('string', 10),
              input: rep('ValueInfoProto', 11), output: rep('ValueInfoProto', 12), value_info: rep('ValueInfoProto', 13),
            },
          },
          NodeProto: {
            fields: {
              input: rep('string', 1), output: rep('string', 2), name: f('string', 3), op_type: f('string', 4),
              domain: f('string', 7), attribute: rep('AttributeProto', 5), doc_string: f('string', 6),
            },
          },
          AttributeProto: {
            fields: {
              name: f('string', 1), ref_attr_name: f('string', 21), doc_string: f('string', 13), type: f('AttributeType', 20),
              f: f('float', 2), i: f('int64', 3), s: f('bytes', 4), t: f('TensorProto', 5), g: f('GraphProto', 6),
              sparse_tensor: f('SparseTensorProto', 22), floats: rep('float', 7), ints: rep('int64', 8),
              strings: rep('bytes', 9), tensors: rep('TensorProto', 10), graphs: rep('GraphProto', 11),
              sparse_tensors: rep('SparseTensorProto', 23),
            },
            nested: { AttributeType: { values: AttributeType } },
          },
          TensorProto: {
            fields: {
              dims: rep('int64', 1), data_type: f('int32', 2), name: f('string', 8), doc_string: f('string', 12),
              external_data: rep('StringStringEntryProto', 13), data_location: f('DataLocation', 14),
              ...(withPayload ? TENSOR_PAYLOAD : {}),
            },
            nested: { DataType: { values: DataType }, DataLocation: { values: DataLocation } },
          },
          SparseTensorProto: {
            fields: { values: f('TensorProto', 1), indices: f('TensorProto', 2), dims: rep('int64', 3) },
          },
          StringStringEntryProto: { fields: { key: f('string', 1), value: f('string', 2) } },
          ValueInfoProto: { fields: { name: f('string', 1), type: f('TypeProto', 2), doc_string: f('string', 3) } },
          TypeProto: {
            oneofs: { value: { oneof: ['tensor_type'] } },
            fields: { tensor_type: f('Tensor', 1), denotation: f('string', 6) },
            nested: { Tensor: { fields: { elem_type: f('int32', 1), shape: f('TensorShapeProto', 2) } } },
          },
          TensorShapeProto: {
            fields: { dim: rep('Dimension', 1) },
            nested: {
              Dimension: {
                oneofs: { value: { oneof: ['dim_value', 'dim_param'] } },
                fields: { dim_value: f('int64', 1), dim_param: f('string', 2), denotation: f('string', 3) },
              },
            },
          },
        },
      },
    },
  };
}

let fullRoot: protobuf.Namespace | undefined;
let readerRoot: protobuf.Namespace | undefined;

/** A message type of onnx.proto with every field declared: for writing and for decoding small models whole. */
export function onnxType(name: string): protobuf.Type {
  fullRoot ??= protobuf.Root.fromJSON(descriptor(true)).resolveAll();
  return fullRoot.lookupType(`onnx.${name}`);
}

/** The same type with the tensor payload fields undeclared, so proto-file-reader seeks past weights. */
export function onnxReaderType(name: string): protobuf.Type {
  readerRoot ??= protobuf.Root.fromJSON(descriptor(false)).resolveAll();
  return readerRoot.lookupType(`onnx.${name}`);
}
