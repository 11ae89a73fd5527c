/**
 * A run's peak memory before it runs, for admission (docs/server.md, "Limits"). Domain-free: sockets
 * say how many bytes a value of a shape holds (`SocketType.bytes`), nodes how much they hold while
 * running beyond their outputs (`workBytes`); the engine only sums what they declare over the inferred
 * shapes (shapes.ts).
 *
 * The model: a run keeps every output until it ends (downstream nodes and the output cache hold them),
 * and one node works at a time at its largest, so the peak is the sum of the outputs plus the largest
 * node's working bytes. Values nobody sizes (models, conditioning) and unknown shapes count as 0: the
 * estimate is a floor for what can be known without running.
 */
import type { NodeRegistry } from './registry.js';
import type { Services } from './services.js';
import type { Shape } from './shape-types.js';
import { walkShapes } from './shapes.js';

/** One node's share of the estimate. */
export interface NodeMemory {
  readonly id: string;
  readonly classType: string;
  /** Bytes of its outputs (held until the run ends). */
  readonly outputBytes: number;
  /** Bytes it holds while running, beyond its outputs. */
  readonly workBytes: number;
  /** The linked input with the largest known shape: what makes this node big, for messages. */
  readonly largestInput?: { name: string; shape: Shape };
  readonly outputs: readonly (Shape | null)[];
}

export interface MemoryEstimate {
  /** Sum of every output plus the largest working set. */
  readonly peakBytes: number;
  /** The node whose outputs plus work weigh the most (absent for an empty run). */
  readonly heaviest?: NodeMemory;
  readonly nodes: readonly NodeMemory[];
}

function finite(n: number): number {
  return Number.isFinite(n) && n > 0 ? n : 0;
}

function elements(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Estimates the peak bytes of running `nodeIds` (the validated run's nodes) of `workflow`. */
export async function estimateMemory(workflow: unknown, nodeIds: Iterable<string>, registry: NodeRegistry, services: Services): Promise<MemoryEstimate> {
  const wanted = new Set(nodeIds);
  const nodes: NodeMemory[] = [];
  await walkShapes(workflow, registry, services, ({ id, def, values, inputs, outputs }) => {
    if (!wanted.has(id)) return;
    let outputBytes = 0;
    const named: Record<string, Shape> = {};
    def.outputs.forEach((o, i) => {
      const shape = outputs[i];
      if (!shape) return;
      named[o.name] = shape;
      if (o.socket.bytes) outputBytes += finite(o.socket.bytes(shape));
    });
    let workBytes = 0;
    try {
      workBytes = def.workBytes ? finite(def.workBytes(values, inputs, named)) : 0;
    } catch {
      // A rule that cannot tell counts as nothing, like an unknown shape.
    }
    let largestInput: NodeMemory['largestInput'];
    for (const [name, shape] of Object.entries(inputs)) {
      if (shape && (!largestInput || elements(shape) > elements(largestInput.shape))) largestInput = { name, shape };
    }
    nodes.push({ id, classType: def.type, outputBytes, workBytes, largestInput, outputs });
  });
  const outputs = nodes.reduce((a, n) => a + n.outputBytes, 0);
  const work = nodes.reduce((a, n) => Math.max(a, n.workBytes), 0);
  const heaviest = nodes.reduce<NodeMemory | undefined>((a, n) => (!a || n.outputBytes + n.workBytes > a.outputBytes + a.workBytes ? n : a), undefined);
  return { peakBytes: outputs + work, heaviest, nodes };
}
