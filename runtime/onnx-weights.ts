/**
 * Where an ONNX model's weights are: every graph initializer with its name, dims, element type and the
 * byte range of its data (inline in the .onnx file or in an external data file), and the nodes that use
 * them, found by walking the file's protobuf fields without reading the weights (onnx.proto: ModelProto
 * field 7 graph, GraphProto field 1 node and field 5 initializer, TensorProto fields 1 dims, 2 data_type,
 * 8 name, 9 raw_data, 4 float_data, 13 external_data, 14 data_location).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { ModelLoadError } from './errors.js';
import { float16ToFloat32 } from './float16.js';
import { resolveExternalLocation } from './model-file.js';
import { DataLocation, DataType, onnxReaderType } from './onnx-proto.js';
import type { ProtoFieldSpan, ProtoObject } from './proto-file-reader.js';
import { FileWindow, numberField, objectList, protoFields, stringField } from './proto-file-reader.js';

const MODEL_GRAPH = 7;
const GRAPH_NODE = 1;
const GRAPH_INITIALIZER = 5;
const TENSOR_FLOAT_DATA = 4;
const TENSOR_RAW_DATA = 9;
/** TensorProto fields holding data in a form other than little-endian bytes (varints, strings). */
const TENSOR_OTHER_PAYLOADS = new Set([5, 6, 7, 10, 11]);

/** Where an initializer's bytes are: a little-endian byte range of a file (the model itself or external data). */
export interface WeightData {
  readonly file: string;
  readonly offset: number;
  readonly length: number;
}

export interface InitializerInfo {
  readonly name: string;
  readonly dims: readonly number[];
  readonly dataType: number;
  /** Byte range of the whole `initializer` field inside the graph message. */
  readonly field: { readonly start: number; readonly end: number };
  /** Undefined when the data is not stored as raw bytes (int64_data varints, strings, ...). */
  readonly data?: WeightData;
  /** True when the data lives in an external file. */
  readonly external: boolean;
  /** The external data location as the model writes it (relative to the model's folder). */
  readonly location?: string;
}

export interface NodeInfo {
  readonly name: string;
  readonly opType: string;
  readonly inputs: readonly string[];
  readonly attributes: ProtoObject[];
}

export interface WeightIndex {
  readonly path: string;
  readonly size: number;
  /** Top-level ModelProto fields, in file order. */
  readonly modelFields: readonly ProtoFieldSpan[];
  /** The graph field and the graph's own fields, in file order. */
  readonly graphField: ProtoFieldSpan;
  readonly graphFields: readonly ProtoFieldSpan[];
  readonly initializers: ReadonlyMap<string, InitializerInfo>;
  readonly nodes: readonly NodeInfo[];
}

export function elementBytes(dataType: number): number | undefined {
  switch (dataType) {
    case DataType.FLOAT: case DataType.INT32: case DataType.UINT32: return 4;
    case DataType.FLOAT16: case DataType.BFLOAT16: case DataType.INT16: case DataType.UINT16: return 2;
    case DataType.DOUBLE: case DataType.INT64: case DataType.UINT64: return 8;
    case DataType.INT8: case DataType.UINT8: case DataType.BOOL: return 1;
    default: return undefined;
  }
}

function readInitializer(modelPath: string, win: FileWindow, span: ProtoFieldSpan): InitializerInfo {
  let header = Buffer.alloc(0);
  let payload: { offset: number; length: number } | undefined;
  for (const f of protoFields(win, span.valueStart, span.end)) {
    if (f.no === TENSOR_RAW_DATA || f.no === TENSOR_FLOAT_DATA) {
      payload = { offset: f.valueStart, length: f.end - f.valueStart };
    } else if (!TENSOR_OTHER_PAYLOADS.has(f.no)) {
      header = Buffer.concat([header, win.read(f.start, f.end - f.start)]);
    }
  }
  const type = onnxReaderType('TensorProto');
  const t = type.toObject(type.decode(header), { longs: Number, enums: Number, defaults: false, arrays: false });
  const name = stringField(t, 'name') ?? '';
  const dims = Array.isArray(t.dims) ? t.dims.filter((d): d is number => typeof d === 'number') : [];
  const dataType = numberField(t, 'data_type') ?? 0;
  const entries = objectList(t, 'external_data');
  const external = numberField(t, 'data_location') === DataLocation.EXTERNAL || entries.length > 0;
  const field = { start: span.start, end: span.end };
  if (!external) {
    return { name, dims, dataType, field, external, data: payload ? { file: modelPath, ...payload } : undefined };
  }
  const entry = (k: string): string | undefined => {
    const e = entries.find((x) => stringField(x, 'key') === k);
    return e ? stringField(e, 'value') : undefined;
  };
  const location = entry('location');
  if (location === undefined) throw new ModelLoadError(`${modelPath}: tensor '${name}' is external but names no location`);
  const file = resolveExternalLocation(modelPath, location, name);
  const count = dims.reduce((a, d) => a * d, 1);
  const length = Number(entry('length') ?? count * (elementBytes(dataType) ?? 0));
  return { name, dims, dataType, field, external, location, data: { file, offset: Number(entry('offset') ?? 0), length } };
}

function readNode(win: FileWindow, span: ProtoFieldSpan): NodeInfo {
  const type = onnxReaderType('NodeProto');
  const n = type.toObject(type.decode(win.read(span.valueStart, span.end - span.valueStart)), { longs: Number, enums: Number, defaults: false, arrays: false });
  const inputs = Array.isArray(n.input) ? n.input.filter((s): s is string => typeof s === 'string') : [];
  return { name: stringField(n, 'name') ?? '', opType: stringField(n, 'op_type') ?? '', inputs, attributes: objectList(n, 'attribute') };
}

/** Indexes the initializers and nodes of `modelPath` (weights are not read). */
export function readWeightIndex(modelPath: string): WeightIndex {
  let fd: number;
  try {
    fd = openSync(modelPath, 'r');
  } catch {
    throw new ModelLoadError(`model file ${modelPath} does not exist or cannot be read`);
  }
  try {
    const size = fstatSync(fd).size;
    const win = new FileWindow(fd, size);
    const modelFields = [...protoFields(win, 0, size)];
    const graphField = modelFields.find((f) => f.no === MODEL_GRAPH && f.wire === 2);
    if (!graphField) throw new ModelLoadError(`${modelPath} has no graph; is it an ONNX model?`);
    const graphFields = [...protoFields(win, graphField.valueStart, graphField.end)];
    const initializers = new Map<string, InitializerInfo>();
    const nodes: NodeInfo[] = [];
    for (const f of graphFields) {
      if (f.wire !== 2) continue;
      if (f.no === GRAPH_INITIALIZER) {
        const init = readInitializer(modelPath, win, f);
        initializers.set(init.name, init);
      } else if (f.no === GRAPH_NODE) {
        nodes.push(readNode(win, f));
      }
    }
    return { path: modelPath, size, modelFields, graphField, graphFields, initializers, nodes };
  } catch (e) {
    if (e instanceof ModelLoadError) throw e;
    throw new ModelLoadError(`cannot index the weights of ${modelPath}: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads an initializer's data as float32 (FLOAT and FLOAT16 initializers) into `into` when given (a FLOAT
 * initializer's bytes then go straight from the file into it, no copy in between). NOTE: little-endian hosts
 * only, as ONNX stores raw data little-endian (every platform onnxruntime-node ships for).
 */
export function readInitializerF32(init: InitializerInfo, into?: Float32Array, halfScratch?: Uint16Array): Float32Array {
  if (!init.data) throw new ModelLoadError(`initializer '${init.name}' holds no raw data`);
  const count = init.dims.reduce((a, d) => a * d, 1);
  const size = elementBytes(init.dataType);
  if (init.dataType !== DataType.FLOAT && init.dataType !== DataType.FLOAT16) {
    throw new ModelLoadError(`initializer '${init.name}' has element type ${init.dataType}; only float32 and float16 weights can be patched`);
  }
  if (init.data.length !== count * (size ?? 0)) throw new ModelLoadError(`initializer '${init.name}' has ${init.data.length} bytes for ${count} elements of ${size} bytes`);
  const out = into ?? new Float32Array(count);
  const half = init.dataType === DataType.FLOAT16 ? (halfScratch && halfScratch.length >= count ? halfScratch.subarray(0, count) : new Uint16Array(count)) : undefined;
  const target = half ? new Uint8Array(half.buffer, half.byteOffset, count * 2) : new Uint8Array(out.buffer, out.byteOffset, count * 4);
  const fd = openSync(init.data.file, 'r');
  try {
    let got = 0;
    while (got < target.length) {
      const n = readSync(fd, target, got, target.length - got, init.data.offset + got);
      if (n === 0) throw new ModelLoadError(`${init.data.file} ends inside initializer '${init.name}'`);
      got += n;
    }
  } finally {
    closeSync(fd);
  }
  if (half) float16ToFloat32(half, out);
  return out;
}
