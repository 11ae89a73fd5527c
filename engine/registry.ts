import type { NodeDefinition } from './define-node.js';
import { DuplicateNodeTypeError } from './errors.js';

/** The set of node types one engine knows. An object passed around, never a global. */
export class NodeRegistry {
  private readonly defs = new Map<string, NodeDefinition>();

  constructor(defs: Iterable<NodeDefinition> = []) {
    for (const d of defs) this.add(d);
  }

  add(def: NodeDefinition): this {
    if (this.defs.has(def.type)) throw new DuplicateNodeTypeError(`node type '${def.type}' is registered twice`);
    this.defs.set(def.type, def);
    return this;
  }

  get(type: string): NodeDefinition | undefined {
    return this.defs.get(type);
  }

  has(type: string): boolean {
    return this.defs.has(type);
  }

  types(): string[] {
    return [...this.defs.keys()];
  }

  all(): NodeDefinition[] {
    return [...this.defs.values()];
  }
}
