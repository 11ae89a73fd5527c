import { GraphBuilder } from '../../../toyworld/onnx/builder.js';

/** y = Relu(x @ w), x [batch, 3], w a fixed [3, 2] initializer: the builder and checker tests' model. */
export function smallGraph(): GraphBuilder {
  const g = new GraphBuilder('small');
  g.input('x', 'float32', ['batch', 3]);
  const w = g.f32('w', [1, 2, 3, 4, 5, 6], [3, 2]);
  const y = g.op('MatMul', ['x', w]);
  g.output('y', g.op('Relu', [y]), 'float32', ['batch', 2]);
  return g;
}
