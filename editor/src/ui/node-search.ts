import type { NodeSpec } from '../graph/spec.js';

/** Node types matching every word of `query` in name, display name or category, best first. */
export function searchNodes(specs: Iterable<NodeSpec>, query: string, limit = 30): NodeSpec[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  const scored: { spec: NodeSpec; score: number }[] = [];
  for (const spec of specs) {
    const name = spec.displayName.toLowerCase();
    const type = spec.type.toLowerCase();
    const hay = `${name} ${type} ${spec.category.toLowerCase()}`;
    if (!words.every((w) => hay.includes(w))) continue;
    const q = words.join(' ');
    const score = name === q || type === q ? 0 : name.startsWith(q) || type.startsWith(q) ? 1 : 2;
    scored.push({ spec, score });
  }
  scored.sort((a, b) => a.score - b.score || a.spec.displayName.localeCompare(b.spec.displayName));
  return scored.slice(0, limit).map((s) => s.spec);
}
