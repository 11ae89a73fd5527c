import type { ResolvedNode } from '../validate/types.js';
import type { CachedOutputs, OutputCache } from '../cache/output-cache.js';

export function linkDeps(node: ResolvedNode): string[] {
  const out: string[] = [];
  for (const inp of Object.values(node.inputs)) if (inp.kind === 'link') out.push(inp.from);
  return out;
}

/** Demand-driven planning: walks back from the outputs, stopping at cache hits. */
export function walkDemand(
  outputs: readonly string[],
  nodes: ReadonlyMap<string, ResolvedNode>,
  keys: ReadonlyMap<string, string>,
  cache: OutputCache,
): { hits: Map<string, CachedOutputs>; needed: Set<string>; cached: string[] } {
  const hits = new Map<string, CachedOutputs>();
  const needed = new Set<string>();
  const cached: string[] = [];
  const stack = [...outputs];
  const visited = new Set<string>();
  while (stack.length) {
    const id = stack.pop()!;
    if (visited.has(id)) continue;
    visited.add(id);
    const hit = cache.get(keys.get(id)!);
    if (hit) {
      hits.set(id, hit);
      cached.push(id);
      continue;
    }
    needed.add(id);
    for (const d of linkDeps(nodes.get(id)!)) stack.push(d);
  }
  return { hits, needed, cached };
}
