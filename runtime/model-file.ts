/**
 * Reads an .onnx file's declared inputs/outputs and external-data references before onnxruntime sees
 * it, and refuses external data that resolves outside the model's folder (CVE-2022-25882).
 */
import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { ModelLoadError, UnsafeExternalDataError } from './errors.js';
import type { Dim, IoMeta } from './io-meta.js';
import { elementTypeFromOnnx } from './io-meta.js';
import { DataLocation, DataType, onnxReaderType } from './onnx-proto.js';
import type { ProtoObject } from './proto-file-reader.js';
import { decodeProtoFile, numberField, objectField, objectList, stringField } from './proto-file-reader.js';
import { randomNodes, type RandomNode } from './in-graph-sampling.js';

export interface ModelFileInfo {
  readonly path: string;
  /** Graph inputs as the file declares them (initializers excluded). */
  readonly inputs: readonly IoMeta[];
  readonly outputs: readonly IoMeta[];
  /** Real paths of the external data files, each inside the model's folder. */
  readonly externalFiles: readonly string[];
  /** Memory estimate: the file's size plus its external data files' sizes. */
  readonly bytes: number;
  /** Any float16 tensor, graph input/output or Cast to float16: the model computes in float16 somewhere. */
  readonly usesFloat16: boolean;
  /** Nodes that draw random numbers in the graph; the zeroed ones run as zeros (runtime/in-graph-sampling.ts). */
  readonly randomNodes: readonly RandomNode[];
}

/** True when the graph (or a subgraph) holds float16 data or casts to it. */
function computesInFloat16(graph: ProtoObject): boolean {
  for (const t of tensorsOf(graph)) if (numberField(t, 'data_type') === DataType.FLOAT16) return true;
  for (const node of objectList(graph, 'node')) {
    if (stringField(node, 'op_type') !== 'Cast') continue;
    const to = objectList(node, 'attribute').find((a) => stringField(a, 'name') === 'to');
    if (to && numberField(to, 'i') === DataType.FLOAT16) return true;
  }
  return false;
}

function ioMeta(v: ProtoObject): IoMeta {
  const tensorType = objectField(objectField(v, 'type') ?? {}, 'tensor_type');
  const shape = tensorType ? objectField(tensorType, 'shape') : undefined;
  const dims: Dim[] = shape
    ? objectList(shape, 'dim').map((d) => numberField(d, 'dim_value') ?? stringField(d, 'dim_param') ?? '?')
    : [];
  return {
    name: stringField(v, 'name') ?? '',
    dtype: elementTypeFromOnnx(tensorType ? numberField(tensorType, 'elem_type') ?? 0 : 0),
    shape: dims,
    shapeKnown: shape !== undefined,
  };
}

/** Every tensor in a graph that may carry data: initializers, sparse ones, node attributes, subgraphs. */
function* tensorsOf(graph: ProtoObject): Generator<ProtoObject> {
  yield* objectList(graph, 'initializer');
  for (const sp of objectList(graph, 'sparse_initializer')) yield* sparseParts(sp);
  for (const node of objectList(graph, 'node')) {
    for (const attr of objectList(node, 'attribute')) {
      const t = objectField(attr, 't');
      if (t) yield t;
      yield* objectList(attr, 'tensors');
      const sp = objectField(attr, 'sparse_tensor');
      if (sp) yield* sparseParts(sp);
      for (const s of objectList(attr, 'sparse_tensors')) yield* sparseParts(s);
      const g = objectField(attr, 'g');
      if (g) yield* tensorsOf(g);
      for (const sub of objectList(attr, 'graphs')) yield* tensorsOf(sub);
    }
  }
}

function* sparseParts(sp: ProtoObject): Generator<ProtoObject> {
  for (const key of ['values', 'indices']) {
    const t = objectField(sp, key);
    if (t) yield t;
  }
}

function isInside(dir: string, p: string): boolean {
  const rel = path.relative(dir, p);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}

/** Resolves one external-data location, refusing anything that leaves the model's folder. */
export function resolveExternalLocation(modelPath: string, location: string, tensorName: string): string {
  const dir = path.dirname(path.resolve(modelPath));
  const refuse = (why: string): UnsafeExternalDataError =>
    new UnsafeExternalDataError(
      `refusing ${modelPath}: tensor '${tensorName}' has external data at '${location}', which ${why}; ` +
        `external data must stay inside ${dir}`,
    );
  if (location.includes('\0')) throw refuse('contains a NUL byte');
  if (path.isAbsolute(location) || path.win32.isAbsolute(location)) throw refuse('is an absolute path');
  const candidate = path.resolve(dir, location);
  if (!isInside(dir, candidate)) throw refuse('resolves outside the model folder');
  let real: string;
  try {
    real = realpathSync(candidate);
  } catch {
    throw new ModelLoadError(`${modelPath}: external data file '${location}' for tensor '${tensorName}' does not exist`);
  }
  if (!isInside(realpathSync(dir), real)) throw refuse(`is a link to ${real}, outside the model folder`);
  return real;
}

/** Parses the model file (weights skipped) and checks its external data; throws before any load. */
export function inspectModelFile(modelPath: string): ModelFileInfo {
  let size: number;
  try {
    size = statSync(modelPath).size;
  } catch {
    throw new ModelLoadError(`model file ${modelPath} does not exist or cannot be read`);
  }
  const model = decodeProtoFile(modelPath, onnxReaderType('ModelProto'));
  const graph = objectField(model, 'graph');
  if (!graph) throw new ModelLoadError(`${modelPath} has no graph; is it an ONNX model?`);

  const external = new Set<string>();
  for (const t of tensorsOf(graph)) {
    const entries = objectList(t, 'external_data');
    if (numberField(t, 'data_location') !== DataLocation.EXTERNAL && entries.length === 0) continue;
    const name = stringField(t, 'name') ?? '(unnamed)';
    const location = entries.find((e) => stringField(e, 'key') === 'location');
    const loc = location ? stringField(location, 'value') : undefined;
    if (loc === undefined) throw new UnsafeExternalDataError(`refusing ${modelPath}: tensor '${name}' is external but names no location`);
    external.add(resolveExternalLocation(modelPath, loc, name));
  }

  const initializers = new Set(objectList(graph, 'initializer').map((t) => stringField(t, 'name')));
  let bytes = size;
  for (const f of external) bytes += statSync(f).size;
  const inputs = objectList(graph, 'input').map(ioMeta).filter((m) => !initializers.has(m.name));
  const outputs = objectList(graph, 'output').map(ioMeta);
  const usesFloat16 = [...inputs, ...outputs].some((m) => m.dtype === 'float16') || computesInFloat16(graph);
  return { path: modelPath, inputs, outputs, externalFiles: [...external], bytes, usesFloat16, randomNodes: randomNodes(graph) };
}
