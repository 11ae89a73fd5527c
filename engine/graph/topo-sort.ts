/**
 * Kahn's algorithm (Kahn 1962) over the subgraph `nodes`: returns a dependency-first order, plus the
 * nodes left over, which lie on or behind a cycle. O(V + E).
 */
export function topoSort(nodes: ReadonlySet<string>, deps: (id: string) => Iterable<string>): { order: string[]; cyclic: string[] } {
  const indegree = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const id of nodes) indegree.set(id, 0);
  for (const id of nodes) {
    for (const d of new Set(deps(id))) {
      if (!nodes.has(d)) continue;
      indegree.set(id, indegree.get(id)! + 1);
      let list = dependents.get(d);
      if (!list) dependents.set(d, (list = []));
      list.push(id);
    }
  }
  const order: string[] = [];
  const ready: string[] = [];
  for (const [id, n] of indegree) if (n === 0) ready.push(id);
  while (ready.length) {
    const id = ready.pop()!;
    order.push(id);
    for (const dep of dependents.get(id) ?? []) {
      const n = indegree.get(dep)! - 1;
      indegree.set(dep, n);
      if (n === 0) ready.push(dep);
    }
  }
  const cyclic = order.length === nodes.size ? [] : [...nodes].filter((id) => indegree.get(id)! > 0);
  return { order, cyclic };
}
