/**
 * Shape inference: what each node's outputs will look like, from constants and upstream shapes,
 * without running anything (editor.md: "LATENT 4x64x64 x2", "IMAGE 512x512" on the outputs).
 */
import type { InputSpec } from './inputs.js';
import type { NodeDefinition } from './define-node.js';
import type { NodeRegistry } from './registry.js';
import type { Services } from './services.js';
import { topoSort } from './graph/topo-sort.js';
import { isLink } from './workflow.js';
import type { Shape, WorkflowShapes } from './shape-types.js';

export type { Shape, InferredShapes, WorkflowShapes } from './shape-types.js';


/** A constant that fits its input's kind, or undefined (an invalid value is not guessed at). */
function constantOf(spec: InputSpec, raw: unknown): unknown {
  switch (spec.kind) {
    case 'INT':
    case 'FLOAT':
      if (typeof raw === 'bigint') return Number(raw);
      return typeof raw === 'number' && Number.isFinite(raw) ? raw : undefined;
    case 'STRING':
    case 'COMBO':
      return typeof raw === 'string' ? raw : undefined;
    case 'BOOLEAN':
      return typeof raw === 'boolean' ? raw : undefined;
    default:
      return undefined;
  }
}

function isShape(v: unknown): v is Shape {
  return Array.isArray(v) && v.every((d) => Number.isSafeInteger(d) && d >= 0);
}

type Nodes = Record<string, { class_type: string; inputs: Record<string, unknown> }>;

function readNodes(workflow: unknown): Nodes {
  const out: Nodes = {};
  if (workflow === null || typeof workflow !== 'object' || Array.isArray(workflow)) return out;
  for (const [id, node] of Object.entries(workflow)) {
    if (node === null || typeof node !== 'object') continue;
    const { class_type, inputs } = node as { class_type?: unknown; inputs?: unknown };
    if (typeof class_type !== 'string' || inputs === null || typeof inputs !== 'object' || Array.isArray(inputs)) continue;
    Object.defineProperty(out, id, { value: { class_type, inputs: inputs as Record<string, unknown> }, enumerable: true });
  }
  return out;
}

/**
 * Shapes of every node of an API workflow that the registry knows, in dependency order. Works on
 * incomplete and invalid workflows: what cannot be inferred (unknown types, cycles, a node without
 * `infer`, an `infer` that throws) is null, and so is everything that depends only on it.
 */
export async function inferShapes(workflow: unknown, registry: NodeRegistry, services: Services): Promise<WorkflowShapes> {
  return walkShapes(workflow, registry, services);
}

/** What `walkShapes` tells a visitor about each node it inferred: its constants, input and output shapes. */
export interface InferredNode {
  readonly id: string;
  readonly def: NodeDefinition;
  readonly values: Record<string, unknown>;
  readonly inputs: Record<string, Shape | undefined>;
  readonly outputs: readonly (Shape | null)[];
}

/** `inferShapes`, calling `visit` for every node after its outputs are inferred (memory-estimate.ts). */
export async function walkShapes(workflow: unknown, registry: NodeRegistry, services: Services, visit?: (node: InferredNode) => void): Promise<WorkflowShapes> {
  const nodes = readNodes(workflow);
  const ids = new Set(Object.keys(nodes).filter((id) => registry.has(nodes[id]!.class_type)));
  const { order } = topoSort(ids, (id) => Object.values(nodes[id]!.inputs).flatMap((v) => (isLink(v) && ids.has(v[0]) ? [v[0]] : [])));
  const result: WorkflowShapes = {};
  for (const id of order) {
    const node = nodes[id]!;
    const def = registry.get(node.class_type)!;
    const outputs: (Shape | null)[] = def.outputs.map(() => null);
    Object.defineProperty(result, id, { value: outputs, enumerable: true });
    const values: Record<string, unknown> = {};
    const shapes: Record<string, Shape | undefined> = {};
    for (const [name, spec] of [...Object.entries(def.inputs), ...Object.entries(def.optional)]) {
      const raw = node.inputs[name];
      if (raw === undefined) continue;
      if (isLink(raw)) {
        const upstream = result[raw[0]]?.[raw[1]];
        if (upstream) shapes[name] = upstream;
      } else {
        const v = constantOf(spec, raw);
        if (v !== undefined) values[name] = v;
      }
    }
    try {
      const inferred = def.infer ? await def.infer(values, shapes, services) : {};
      def.outputs.forEach((o, i) => {
        const s = inferred[o.name];
        if (isShape(s)) outputs[i] = s;
      });
    } catch {
      // A node that cannot tell (a missing file, say) leaves its outputs unknown.
    }
    visit?.({ id, def, values, inputs: shapes, outputs });
  }
  return result;
}
