/**
 * Models that draw random numbers inside their graph. The diffusers ONNX conversion script
 * (scripts/convert_stable_diffusion_checkpoint_to_onnx.py) exports `vae_encoder` as
 * `vae.encode(sample).latent_dist.sample()`, i.e. mean + std * RandomNormalLike(mean), so two encodes of one image
 * differ; ComfyUI's VAEEncode takes the latent distribution's mean (comfy/ldm/models/autoencoder.py
 * DiagonalGaussianRegularizer with sample=False). Each RandomNormal / RandomNormalLike node with mean 0 is rewritten
 * to give zeros of its shape (Sub(x, x) for the Like form, a zero Constant for the static form), which turns
 * mean + std * noise into the mean. Other random operators are reported, not rewritten.
 */
import protobuf from 'protobufjs';
import { DataType, onnxType } from './onnx-proto.js';
import { FileWindow, numberField, objectList, stringField, type ProtoFieldSpan, type ProtoObject } from './proto-file-reader.js';

/** The random operators of ONNX's default domain. */
const RANDOM_OPS = new Set(['RandomNormal', 'RandomNormalLike', 'RandomUniform', 'RandomUniformLike', 'Multinomial', 'Bernoulli']);
const GRAPH_NODE = 1;

export interface RandomNode {
  readonly name: string;
  readonly opType: string;
  /** Rewritten to zeros (a RandomNormal(Like) with mean 0); false: left as it is. */
  readonly zeroed: boolean;
}

function attr(node: ProtoObject, name: string): ProtoObject | undefined {
  return objectList(node, 'attribute').find((a) => stringField(a, 'name') === name);
}

function zeroable(node: ProtoObject): boolean {
  const op = stringField(node, 'op_type');
  if (op !== 'RandomNormal' && op !== 'RandomNormalLike') return false;
  if ((stringField(node, 'domain') ?? '') !== '') return false;
  const mean = attr(node, 'mean');
  return !mean || (numberField(mean, 'f') ?? 0) === 0;
}

/** The random nodes of a top-level graph (as runtime/model-file.ts decodes it). */
export function randomNodes(graph: ProtoObject): RandomNode[] {
  return objectList(graph, 'node')
    .filter((n) => RANDOM_OPS.has(stringField(n, 'op_type') ?? '') && (stringField(n, 'domain') ?? '') === '')
    .map((n) => ({ name: stringField(n, 'name') ?? '', opType: stringField(n, 'op_type') ?? '', zeroed: zeroable(n) }));
}

const ELEMENT_BYTES: Record<number, number> = { [DataType.FLOAT]: 4, [DataType.FLOAT16]: 2, [DataType.DOUBLE]: 8 };

/** NodeProto bytes giving zeros where `node` drew from N(0, scale). */
function zerosNode(node: ProtoObject): Uint8Array {
  const t = onnxType('NodeProto');
  const name = stringField(node, 'name') ?? '';
  const output = objectListStrings(node, 'output');
  if (stringField(node, 'op_type') === 'RandomNormalLike') {
    const input = objectListStrings(node, 'input')[0];
    return t.encode(t.fromObject({ name, op_type: 'Sub', input: [input, input], output })).finish();
  }
  const shape = objectListNumbers(attr(node, 'shape'), 'ints');
  const dtype = numberField(attr(node, 'dtype') ?? {}, 'i') ?? DataType.FLOAT;
  const bytes = ELEMENT_BYTES[dtype] ?? 4;
  const raw = new Uint8Array(shape.reduce((a, d) => a * d, 1) * bytes);
  return t.encode(t.fromObject({
    name, op_type: 'Constant', output,
    attribute: [{ name: 'value', type: 4, t: { dims: shape, data_type: dtype, raw_data: raw } }],
  })).finish();
}

function objectListStrings(o: ProtoObject, key: string): string[] {
  const v = o[key];
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
}

function objectListNumbers(o: ProtoObject | undefined, key: string): number[] {
  const v = o?.[key];
  return Array.isArray(v) ? v.map(Number) : [];
}

/**
 * Replacement GraphProto `node` fields (the whole field, tag included) by the file offset of the field they replace,
 * for every zeroable random node among a graph's fields (WeightIndex.graphFields); empty when there is none.
 */
export function zeroedRandomNodes(graphFields: readonly ProtoFieldSpan[], win: FileWindow): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  const type = onnxType('NodeProto');
  for (const f of graphFields) {
    if (f.no !== GRAPH_NODE || f.wire !== 2) continue;
    const node = type.toObject(type.decode(win.read(f.valueStart, f.end - f.valueStart)), { longs: Number, enums: Number, defaults: false, arrays: true });
    if (!zeroable(node)) continue;
    const w = protobuf.Writer.create();
    w.uint32((GRAPH_NODE << 3) | 2).bytes(zerosNode(node));
    out.set(f.start, w.finish());
  }
  return out;
}
