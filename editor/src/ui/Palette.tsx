import { useMemo, useState, type ReactElement } from 'react';
import type { NodeSpec } from '../graph/spec.js';
import { searchNodes } from './node-search.js';

/** Node types grouped by category, all read from `/object_info`. */
export function Palette({ specs, onAdd }: { specs: ReadonlyMap<string, NodeSpec>; onAdd(type: string): void }): ReactElement {
  const [filter, setFilter] = useState('');
  const groups = useMemo(() => {
    const list = filter ? searchNodes(specs.values(), filter, 500) : [...specs.values()];
    const by = new Map<string, NodeSpec[]>();
    for (const s of list) {
      const g = by.get(s.category) ?? [];
      g.push(s);
      by.set(s.category, g);
    }
    return [...by].sort(([a], [b]) => a.localeCompare(b));
  }, [specs, filter]);
  return (
    <aside className="lf-palette" data-testid="palette">
      <input placeholder="filter nodes…" value={filter} data-testid="palette-filter" onChange={(e) => setFilter(e.target.value)} />
      {groups.map(([cat, list]) => (
        <details key={cat} open={filter !== '' || groups.length < 8}>
          <summary>{cat}</summary>
          {list.map((s) => (
            <button
              key={s.type}
              className="lf-palette-item"
              data-testid={`palette-item-${s.type}`}
              title={s.description || s.type}
              draggable
              onDragStart={(e) => e.dataTransfer.setData('application/x-latentflow-node', s.type)}
              onClick={() => onAdd(s.type)}
            >
              {s.displayName}
            </button>
          ))}
        </details>
      ))}
    </aside>
  );
}
