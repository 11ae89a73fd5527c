import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { NodeDefinition } from '../engine/index.js';

/** A module given to --custom-nodes exported something that is not a list of node definitions. */
export class CustomNodesError extends Error {
  override name = 'CustomNodesError';
}

function isNodeDefinition(v: unknown): v is NodeDefinition {
  return typeof v === 'object' && v !== null && 'type' in v && typeof v.type === 'string' && 'run' in v && typeof v.run === 'function' && 'outputs' in v;
}

/** `--custom-nodes` of serve and worker: ES modules exporting `NODES` (or default) as an array of node definitions. */
export async function loadCustomNodes(files: readonly string[]): Promise<NodeDefinition[]> {
  const out: NodeDefinition[] = [];
  for (const f of files) {
    const mod: unknown = await import(pathToFileURL(path.resolve(f)).href);
    const list = typeof mod === 'object' && mod !== null ? ('NODES' in mod ? mod.NODES : 'default' in mod ? mod.default : undefined) : undefined;
    if (!Array.isArray(list) || !list.every(isNodeDefinition)) throw new CustomNodesError(`${f}: export NODES (or default) as an array of node definitions`);
    out.push(...list);
  }
  return out;
}
