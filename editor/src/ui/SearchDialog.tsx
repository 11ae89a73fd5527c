import { useEffect, useMemo, useRef, useState, type ReactElement } from 'react';
import type { NodeSpec } from '../graph/spec.js';
import { searchNodes } from './node-search.js';

export interface SearchDialogProps {
  readonly specs: ReadonlyMap<string, NodeSpec>;
  /** Screen position of the double-click. */
  readonly at: { x: number; y: number };
  onPick(type: string): void;
  onClose(): void;
}

/** The double-click node search: type to filter, arrows to move, Enter to add. */
export function SearchDialog({ specs, at, onPick, onClose }: SearchDialogProps): ReactElement {
  const [q, setQ] = useState('');
  const [active, setActive] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  const results = useMemo(() => searchNodes(specs.values(), q), [specs, q]);
  useEffect(() => input.current?.focus(), []);
  useEffect(() => setActive(0), [q]);
  return (
    <div className="lf-search" data-testid="node-search" style={{ left: at.x, top: at.y }}>
      <input
        ref={input}
        data-testid="node-search-input"
        placeholder="search nodes…"
        value={q}
        onChange={(e) => setQ(e.target.value)}
        onBlur={() => setTimeout(onClose, 150)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') onClose();
          else if (e.key === 'ArrowDown') setActive((a) => Math.min(a + 1, results.length - 1));
          else if (e.key === 'ArrowUp') setActive((a) => Math.max(a - 1, 0));
          else if (e.key === 'Enter' && results[active]) onPick(results[active].type);
        }}
      />
      <ul>
        {results.map((s, i) => (
          <li
            key={s.type}
            className={i === active ? 'lf-active' : ''}
            data-testid={`search-item-${s.type}`}
            onMouseDown={(e) => {
              e.preventDefault();
              onPick(s.type);
            }}
          >
            {s.displayName} <small>{s.category}</small>
          </li>
        ))}
      </ul>
    </div>
  );
}
