/**
 * Nodes reachable backwards from `roots` through `deps` (iterative DFS, O(V + E)).
 * Unknown ids in `deps` are skipped; the validator reports them separately.
 */
export function ancestorsOf(roots: Iterable<string>, deps: (id: string) => Iterable<string>, known: (id: string) => boolean): Set<string> {
  const seen = new Set<string>();
  const stack: string[] = [];
  for (const r of roots) {
    if (known(r) && !seen.has(r)) {
      seen.add(r);
      stack.push(r);
    }
  }
  while (stack.length) {
    const id = stack.pop()!;
    for (const d of deps(id)) {
      if (!seen.has(d) && known(d)) {
        seen.add(d);
        stack.push(d);
      }
    }
  }
  return seen;
}
