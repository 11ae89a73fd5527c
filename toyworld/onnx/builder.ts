/**
 * The ONNX graph builder of latentflow, used by the toyworld generator and by the tests' small models:
 * initializers (inline or external data), nodes, typed inputs/outputs with symbolic dims, and
 * deterministic serialisation (names come from a counter, fields are encoded in field-number order, tensor
 * payloads as little-endian raw_data), so the same program writes the same bytes on every run.
 * The message types come from the runtime's onnx.proto descriptor, the same one that reads model files.
 */
import { AttributeType, DataLocation, DataType, onnxType, type DataTypeCode } from '../../runtime/onnx-proto.js';

export type ElemType = 'float32' | 'float16' | 'int32' | 'int64' | 'bool' | 'uint8';
/** A dimension: a fixed size or a symbolic name (dim_param) such as "batch". */
export type Dim = number | string;

const ELEM_CODE: Record<ElemType, DataTypeCode> = {
  float32: DataType.FLOAT,
  float16: DataType.FLOAT16,
  int32: DataType.INT32,
  int64: DataType.INT64,
  bool: DataType.BOOL,
  uint8: DataType.UINT8,
};

export function elemCode(t: ElemType): DataTypeCode {
  return ELEM_CODE[t];
}

/** An attribute value with its ONNX type spelled out (a bare number would not say int or float). */
export type Attr =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'ints'; value: readonly number[] }
  | { kind: 'floats'; value: readonly number[] }
  | { kind: 'string'; value: string }
  | { kind: 'tensor'; value: TensorInit };

export const A = {
  i: (value: number): Attr => ({ kind: 'int', value }),
  f: (value: number): Attr => ({ kind: 'float', value }),
  ints: (value: readonly number[]): Attr => ({ kind: 'ints', value }),
  floats: (value: readonly number[]): Attr => ({ kind: 'floats', value }),
  s: (value: string): Attr => ({ kind: 'string', value }),
  t: (value: TensorInit): Attr => ({ kind: 'tensor', value }),
};

/** A constant tensor: element type, dims and its little-endian bytes. */
export interface TensorInit {
  elem: ElemType;
  dims: readonly number[];
  raw: Uint8Array;
}

/** Thrown when the builder is asked for something ONNX would reject (duplicate names, bad sizes). */
export class OnnxBuildError extends Error {
  override readonly name = 'OnnxBuildError';
}

function count(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

export function f32Tensor(data: ArrayLike<number>, dims: readonly number[]): TensorInit {
  if (data.length !== count(dims)) throw new OnnxBuildError(`float tensor has ${data.length} values for dims [${dims.join(',')}]`);
  const arr = Float32Array.from(data);
  return { elem: 'float32', dims, raw: new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength) };
}

export function i64Tensor(data: readonly number[], dims: readonly number[]): TensorInit {
  if (data.length !== count(dims)) throw new OnnxBuildError(`int64 tensor has ${data.length} values for dims [${dims.join(',')}]`);
  const arr = BigInt64Array.from(data, (v) => BigInt(v));
  return { elem: 'int64', dims, raw: new Uint8Array(arr.buffer) };
}

/** Where an external initializer's bytes are: a file next to the model, and optionally a byte range of it. */
export interface ExternalData {
  location: string;
  offset?: number;
  length?: number;
}

// Objects in onnx.proto's field names, for protobufjs's fromObject.
interface ValueInfo {
  name: string;
  type: { tensor_type: { elem_type: number; shape: { dim: Array<{ dim_value: number } | { dim_param: string }> } } };
}

interface NodeObj {
  input: string[];
  output: string[];
  name: string;
  op_type: string;
  domain: string;
  attribute: Array<Record<string, unknown>>;
}

function valueInfo(name: string, elem: ElemType, dims: readonly Dim[]): ValueInfo {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: ELEM_CODE[elem],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
      },
    },
  };
}

function tensorObj(name: string, t: TensorInit): Record<string, unknown> {
  // NOTE: a copy, so the encoded bytes never alias a caller's buffer that might change later.
  return { dims: [...t.dims], data_type: ELEM_CODE[t.elem], name, raw_data: Uint8Array.from(t.raw) };
}

function externalTensorObj(name: string, elem: ElemType, dims: readonly number[], ref: ExternalData): Record<string, unknown> {
  const entries = [{ key: 'location', value: ref.location }];
  if (ref.offset !== undefined) entries.push({ key: 'offset', value: String(ref.offset) });
  if (ref.length !== undefined) entries.push({ key: 'length', value: String(ref.length) });
  return { dims: [...dims], data_type: ELEM_CODE[elem], name, external_data: entries, data_location: DataLocation.EXTERNAL };
}

function attrObj(name: string, a: Attr): Record<string, unknown> {
  switch (a.kind) {
    case 'int':
      return { name, type: AttributeType.INT, i: a.value };
    case 'float':
      return { name, type: AttributeType.FLOAT, f: a.value };
    case 'ints':
      return { name, type: AttributeType.INTS, ints: [...a.value] };
    case 'floats':
      return { name, type: AttributeType.FLOATS, floats: [...a.value] };
    case 'string':
      return { name, type: AttributeType.STRING, s: new TextEncoder().encode(a.value) };
    case 'tensor':
      return { name, type: AttributeType.TENSOR, t: tensorObj('', a.value) };
  }
}

export interface ModelMeta {
  opset?: number;
  docString?: string;
  producerVersion?: string;
}

/** Builds one graph; values are referred to by name (strings), as in ONNX itself. */
export class GraphBuilder {
  private readonly nodes: NodeObj[] = [];
  private readonly inits: Array<Record<string, unknown>> = [];
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  constructor(readonly graphName: string) {}

  private claim(name: string): string {
    if (this.names.has(name)) throw new OnnxBuildError(`value name "${name}" is defined twice`);
    this.names.add(name);
    return name;
  }

  private fresh(prefix: string): string {
    let name = `${prefix}_${this.counter++}`;
    while (this.names.has(name)) name = `${prefix}_${this.counter++}`;
    return name;
  }

  input(name: string, elem: ElemType, dims: readonly Dim[]): string {
    this.inputs.push(valueInfo(this.claim(name), elem, dims));
    return name;
  }

  /** Declares a graph output; `value` (a node output) is renamed through Identity when it differs. */
  output(name: string, value: string, elem: ElemType, dims: readonly Dim[]): void {
    if (value !== name) this.op('Identity', [value], {}, name);
    this.outputs.push(valueInfo(name, elem, dims));
  }

  init(prefix: string, t: TensorInit): string {
    const name = this.fresh(prefix);
    this.claim(name);
    this.inits.push(tensorObj(name, t));
    return name;
  }

  f32(prefix: string, data: ArrayLike<number>, dims: readonly number[]): string {
    return this.init(prefix, f32Tensor(data, dims));
  }

  i64(prefix: string, data: readonly number[], dims: readonly number[] = [data.length]): string {
    return this.init(prefix, i64Tensor(data, dims));
  }

  /** An initializer whose bytes onnxruntime loads from another file (external data, as large exports store weights). */
  external(prefix: string, elem: ElemType, dims: readonly number[], ref: ExternalData): string {
    const name = this.fresh(prefix);
    this.claim(name);
    this.inits.push(externalTensorObj(name, elem, dims, ref));
    return name;
  }

  /**
   * Adds a node with `nOut` outputs and returns their names. `nodeName` names the node as torch's exporter
   * does (`/<module path>/MatMul`), which LoRA key matching reads; by default nodes get generated names.
   */
  node(opType: string, inputs: readonly string[], attrs: Record<string, Attr> = {}, nOut = 1, outNames?: readonly string[], nodeName?: string): string[] {
    for (const i of inputs) {
      if (i !== '' && !this.names.has(i)) throw new OnnxBuildError(`${opType} reads "${i}", which is not defined yet`);
    }
    const outs: string[] = [];
    for (let k = 0; k < nOut; k++) {
      const given = outNames?.[k];
      outs.push(this.claim(given ?? this.fresh(opType.toLowerCase())));
    }
    const attribute = Object.keys(attrs)
      .sort()
      .map((k) => attrObj(k, attrs[k]));
    this.nodes.push({ input: [...inputs], output: outs, name: nodeName ?? `${opType}_node_${this.nodes.length}`, op_type: opType, domain: '', attribute });
    return outs;
  }

  /** Single-output convenience over `node`. */
  op(opType: string, inputs: readonly string[], attrs: Record<string, Attr> = {}, outName?: string, nodeName?: string): string {
    return this.node(opType, inputs, attrs, 1, outName === undefined ? undefined : [outName], nodeName)[0];
  }

  /** Serialises the model: IR version 8, default-domain opset (17 unless told lower). */
  toBytes(meta: ModelMeta = {}): Uint8Array {
    const opset = meta.opset ?? 17;
    if (opset > 17) throw new OnnxBuildError(`opset ${opset} is above 17`);
    const obj = {
      ir_version: 8,
      opset_import: [{ domain: '', version: opset }],
      producer_name: 'latentflow-toyworld',
      producer_version: meta.producerVersion ?? '1',
      doc_string: meta.docString ?? '',
      graph: {
        node: this.nodes,
        name: this.graphName,
        initializer: this.inits,
        input: this.inputs,
        output: this.outputs,
      },
    };
    const model = onnxType('ModelProto');
    return model.encode(model.fromObject(obj)).finish();
  }
}
