/**
 * The model bytes a patched session is created from: the original ModelProto with each patched
 * initializer turned into an external-data reference (onnx.proto TensorProto.external_data: location,
 * offset, length) into an in-memory file that onnxruntime receives through `sessionOptions.externalData`.
 * Unpatched initializers are copied as they are. NOTE: once a session is given in-memory external data,
 * onnxruntime 1.30 looks every external location up in that table only ("External file: ... not found
 * from the table user provided"), so the model's own external data files are handed over in memory too
 * (`externalFiles`). Nothing is written to disk.
 */
import { closeSync, fstatSync, openSync } from 'node:fs';
import protobuf from 'protobufjs';
import { DataLocation, onnxType } from './onnx-proto.js';
import type { InitializerInfo, WeightIndex } from './onnx-weights.js';
import type { PatchedTensor } from './weight-patch.js';
import { FileWindow } from './proto-file-reader.js';

/** The name the patch buffer goes by in the rewritten model (a relative file name, as onnxruntime requires). */
export const PATCH_FILE_NAME = 'latentflow-patched-weights.bin';

function externalTensor(info: InitializerInfo, dims: readonly number[], location: string, offset: number, length: number): Uint8Array {
  const t = onnxType('TensorProto');
  return t.encode(t.fromObject({
    name: info.name,
    dims: [...dims],
    data_type: info.dataType,
    data_location: DataLocation.EXTERNAL,
    external_data: [
      { key: 'location', value: location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(length) },
    ],
  })).finish();
}

function field(no: number, value: Uint8Array): Uint8Array {
  const w = protobuf.Writer.create();
  w.uint32((no << 3) | 2).bytes(value);
  return w.finish();
}

/** The external data files the model names (location as written -> real path), for the in-memory table. */
export function externalFiles(index: WeightIndex, tensors: readonly PatchedTensor[]): Map<string, string> {
  const patched = new Set(tensors.map((t) => t.info.name));
  const out = new Map<string, string>();
  for (const i of index.initializers.values()) {
    if (i.external && i.location !== undefined && i.data && !patched.has(i.name)) out.set(i.location, i.data.file);
  }
  return out;
}

/**
 * Rewrites `index`'s model so the patched initializers come from `tensors` (in PATCH_FILE_NAME) and the graph
 * fields `nodes` names (by file offset, see in-graph-sampling.ts) are replaced by its bytes.
 */
export function patchedModelBytes(index: WeightIndex, tensors: readonly PatchedTensor[], nodes?: (win: FileWindow) => ReadonlyMap<number, Uint8Array>): Uint8Array {
  const patched = new Map(tensors.map((t) => [t.info.name, t]));
  const fd = openSync(index.path, 'r');
  try {
    const win = new FileWindow(fd, fstatSync(fd).size);
    const copy = (start: number, end: number): Uint8Array => Uint8Array.from(win.read(start, end - start));
    const byStart = new Map([...index.initializers.values()].map((i) => [i.field.start, i]));
    const graphParts: Uint8Array[] = [];
    const replaced = nodes?.(win);
    for (const f of index.graphFields) {
      const init = byStart.get(f.start);
      const p = init ? patched.get(init.name) : undefined;
      const node = replaced?.get(f.start);
      if (node) {
        graphParts.push(node);
      } else if (init && p) {
        graphParts.push(field(5, externalTensor(init, p.dims, PATCH_FILE_NAME, p.offset, p.length)));
      } else {
        graphParts.push(copy(f.start, f.end));
      }
    }
    const graph = Buffer.concat(graphParts);
    const parts: Uint8Array[] = [];
    for (const f of index.modelFields) parts.push(f === index.graphField ? field(7, graph) : copy(f.start, f.end));
    return Buffer.concat(parts);
  } finally {
    closeSync(fd);
  }
}
