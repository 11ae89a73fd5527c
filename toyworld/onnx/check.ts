/**
 * A TypeScript port of the key rules of the ONNX checker (onnx/checker.cc, check_model / check_graph /
 * check_node): IR version and opset imports present, default-domain opset <= 17, known op types,
 * SSA (every value defined once), nodes topologically sorted, every input defined before use, and
 * every graph output produced. Inline initializer payload sizes are checked against their dims.
 */
import { DataLocation, onnxType } from '../../runtime/onnx-proto.js';

/** Thrown by checkModel with every problem found, one per line. */
export class OnnxCheckError extends Error {
  override readonly name = 'OnnxCheckError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid ONNX model:\n  ${problems.join('\n  ')}`);
  }
}

/** Operators of the default domain (ai.onnx) defined up to opset 17. */
const KNOWN_OPS = new Set(
  (
    'Abs Acos Acosh Add And ArgMax ArgMin Asin Asinh Atan Atanh AveragePool BatchNormalization Bernoulli BitShift ' +
    'BlackmanWindow Cast CastLike Ceil Celu Clip Compress Concat ConcatFromSequence Constant ConstantOfShape Conv ' +
    'ConvInteger ConvTranspose Cos Cosh CumSum DFT DepthToSpace DequantizeLinear Det Div Dropout DynamicQuantizeLinear ' +
    'Einsum Elu Equal Erf Exp Expand EyeLike Flatten Floor GRU Gather GatherElements GatherND Gemm GlobalAveragePool ' +
    'GlobalLpPool GlobalMaxPool Greater GreaterOrEqual GridSample GroupNormalization HammingWindow HannWindow ' +
    'HardSigmoid HardSwish Hardmax Identity If InstanceNormalization IsInf IsNaN LRN LSTM LayerNormalization LeakyRelu ' +
    'Less LessOrEqual Log LogSoftmax Loop LpNormalization LpPool MatMul MatMulInteger Max MaxPool MaxRoiPool MaxUnpool ' +
    'Mean MelWeightMatrix Min Mish Mod Mul Multinomial Neg NegativeLogLikelihoodLoss NonMaxSuppression NonZero Not ' +
    'OneHot Optional OptionalGetElement OptionalHasElement Or PRelu Pad Pow QLinearConv QLinearMatMul QuantizeLinear ' +
    'RNN RandomNormal RandomNormalLike RandomUniform RandomUniformLike Range Reciprocal ReduceL1 ReduceL2 ' +
    'ReduceLogSum ReduceLogSumExp ReduceMax ReduceMean ReduceMin ReduceProd ReduceSum ReduceSumSquare Relu Reshape ' +
    'Resize ReverseSequence RoiAlign Round STFT Scan Scatter ScatterElements ScatterND Selu SequenceAt ' +
    'SequenceConstruct SequenceEmpty SequenceErase SequenceInsert SequenceLength SequenceMap Shape Shrink Sigmoid Sign ' +
    'Sin Sinh Size Slice Softmax SoftmaxCrossEntropyLoss Softplus Softsign SpaceToDepth Split SplitToSequence Sqrt ' +
    'Squeeze StringNormalizer Sub Sum Tan Tanh TfIdfVectorizer ThresholdedRelu Tile TopK Transpose Trilu Unique ' +
    'Unsqueeze Where Xor'
  ).split(' '),
);

const ELEM_SIZE: Record<number, number> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8 };

type Rec = Record<string, unknown>;

function rec(v: unknown): Rec {
  return typeof v === 'object' && v !== null ? Object.fromEntries(Object.entries(v)) : {};
}
function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}
function num(v: unknown): number {
  return typeof v === 'number' ? v : Number.NaN;
}

export interface CheckedModel {
  opset: number;
  inputs: string[];
  outputs: string[];
  nodeCount: number;
  opTypes: string[];
}

/** Validates an ONNX file; throws OnnxCheckError listing every problem, else returns a summary. */
export function checkModel(bytes: Uint8Array): CheckedModel {
  const problems: string[] = [];
  const ModelProto = onnxType('ModelProto');
  const model = rec(ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, bytes: Array, defaults: true, arrays: true }));

  const ir = num(model.ir_version);
  if (!(ir >= 3)) problems.push(`ir_version ${ir} is missing or below 3`);
  let opset = Number.NaN;
  for (const imp of list(model.opset_import).map(rec)) {
    const domain = str(imp.domain);
    if (domain === '' || domain === 'ai.onnx') opset = num(imp.version);
  }
  if (Number.isNaN(opset)) problems.push('no opset_import for the default domain');
  else if (opset > 17 || opset < 1) problems.push(`default-domain opset ${opset} is outside 1..17`);

  const graph = rec(model.graph);
  const defined = new Set<string>();
  const define = (name: string, what: string): void => {
    if (name === '') problems.push(`${what} has an empty name`);
    else if (defined.has(name)) problems.push(`${what} "${name}" is defined more than once`);
    else defined.add(name);
  };

  const inputs: string[] = [];
  for (const vi of list(graph.input).map(rec)) {
    const name = str(vi.name);
    inputs.push(name);
    const tt = rec(rec(vi.type).tensor_type);
    if (!(num(tt.elem_type) > 0)) problems.push(`graph input "${name}" has no element type`);
    define(name, 'graph input');
  }
  for (const t of list(graph.initializer).map(rec)) {
    const name = str(t.name);
    if (!defined.has(name)) define(name, 'initializer');
    const dims = list(t.dims).map(num);
    const n = dims.reduce((a, b) => a * b, 1);
    const raw = list(t.raw_data).length;
    const size = ELEM_SIZE[num(t.data_type)];
    if (size === undefined) problems.push(`initializer "${name}" has unsupported data type ${String(t.data_type)}`);
    else if (raw > 0 && raw !== n * size) problems.push(`initializer "${name}" holds ${raw} bytes, dims need ${n * size}`);
    else if (raw === 0 && num(t.data_location) !== DataLocation.EXTERNAL) {
      const typed = list(t.float_data).length + list(t.int32_data).length + list(t.int64_data).length;
      if (typed !== n) problems.push(`initializer "${name}" holds ${typed} values, dims need ${n}`);
    }
  }

  const opTypes = new Set<string>();
  const nodes = list(graph.node).map(rec);
  nodes.forEach((node, idx) => {
    const op = str(node.op_type);
    const domain = str(node.domain);
    const label = `node ${idx} (${op}${str(node.name) ? ` "${str(node.name)}"` : ''})`;
    opTypes.add(op);
    if ((domain === '' || domain === 'ai.onnx') && !KNOWN_OPS.has(op)) problems.push(`${label}: unknown op type`);
    for (const input of list(node.input).map(str)) {
      if (input !== '' && !defined.has(input)) problems.push(`${label}: input "${input}" is not defined by a graph input, initializer or earlier node`);
    }
    const attrNames = new Set<string>();
    for (const a of list(node.attribute).map(rec)) {
      const an = str(a.name);
      if (an === '' || attrNames.has(an)) problems.push(`${label}: attribute "${an}" is empty or repeated`);
      attrNames.add(an);
      if (!(num(a.type) > 0)) problems.push(`${label}: attribute "${an}" has no type`);
    }
    const outs = list(node.output).map(str);
    if (outs.length === 0) problems.push(`${label}: no outputs`);
    for (const out of outs) if (out !== '') define(out, `${label} output`);
  });

  const outputs: string[] = [];
  for (const vi of list(graph.output).map(rec)) {
    const name = str(vi.name);
    outputs.push(name);
    if (!defined.has(name)) problems.push(`graph output "${name}" is not produced by any node`);
    const tt = rec(rec(vi.type).tensor_type);
    if (!(num(tt.elem_type) > 0)) problems.push(`graph output "${name}" has no element type`);
  }
  if (outputs.length === 0) problems.push('graph has no outputs');

  if (problems.length > 0) throw new OnnxCheckError(problems);
  return { opset, inputs, outputs, nodeCount: nodes.length, opTypes: [...opTypes].sort() };
}
