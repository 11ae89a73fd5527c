import { describe, expect, it } from 'vitest';
import { checkModel, OnnxCheckError } from '../../../toyworld/onnx/check.js';
import { onnxType } from '../../../runtime/onnx-proto.js';
import { smallGraph } from './helpers.js';

/** Re-encodes a model after editing its decoded object, to build invalid files the builder refuses. */
function mutate(bytes: Uint8Array, edit: (m: Record<string, unknown>) => void): Uint8Array {
  const ModelProto = onnxType('ModelProto');
  const obj = ModelProto.toObject(ModelProto.decode(bytes), { longs: Number });
  edit(obj);
  return ModelProto.encode(ModelProto.fromObject(obj)).finish();
}

function problemsOf(bytes: Uint8Array): string {
  try {
    checkModel(bytes);
    return '';
  } catch (e) {
    if (e instanceof OnnxCheckError) return e.problems.join('\n');
    throw e;
  }
}

describe('checkModel', () => {
  const good = smallGraph().toBytes();

  it('rejects nodes that are not topologically sorted', () => {
    const bad = mutate(good, (m) => {
      const graph = m.graph as { node: unknown[] };
      graph.node.reverse();
    });
    expect(problemsOf(bad)).toMatch(/not defined by a graph input, initializer or earlier node/);
  });

  it('rejects a value defined twice', () => {
    const bad = mutate(good, (m) => {
      const graph = m.graph as { node: Array<{ output: string[] }> };
      graph.node[1].output = [graph.node[0].output[0]];
    });
    expect(problemsOf(bad)).toMatch(/defined more than once/);
  });

  it('rejects unknown ops, opsets above 17 and outputs nobody produces', () => {
    expect(problemsOf(mutate(good, (m) => ((m.graph as { node: Array<{ op_type: string }> }).node[0].op_type = 'MatMulPlus')))).toMatch(/unknown op type/);
    expect(problemsOf(mutate(good, (m) => ((m.opset_import as Array<{ version: number }>)[0].version = 18)))).toMatch(/opset 18/);
    expect(problemsOf(mutate(good, (m) => ((m.graph as { output: Array<{ name: string }> }).output[0].name = 'z')))).toMatch(/not produced/);
  });

  it('rejects initializers whose payload does not match their dims', () => {
    const bad = mutate(good, (m) => ((m.graph as { initializer: Array<{ dims: number[] }> }).initializer[0].dims = [4, 2]));
    expect(problemsOf(bad)).toMatch(/holds 24 bytes, dims need 32/);
  });
});
