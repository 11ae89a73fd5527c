import { useEffect, useRef } from 'react';
import type { ReactFlowInstance } from '@xyflow/react';
import type { NodeSpec, ObjectInfo } from '../graph/spec.js';
import type { GraphStore } from '../graph/store.js';
import { toUiDocument } from '../graph/to-ui.js';
import type { Graph, LfEdge, LfNode } from '../graph/types.js';
import { copySelection, pasteInto } from './clipboard.js';
import { download } from './files.js';

/** Typing in a widget keeps the browser's own Ctrl+Z, Ctrl+C and so on. */
function isEditable(t: EventTarget | null): boolean {
  return t instanceof HTMLElement && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName));
}

export interface ShortcutActions {
  readonly store: GraphStore;
  readonly specsRef: { readonly current: ReadonlyMap<string, NodeSpec> };
  readonly info: ObjectInfo;
  readonly flow: ReactFlowInstance<LfNode, LfEdge>;
  readonly queue: () => Promise<void>;
  readonly undo: () => void;
  readonly redo: () => void;
}

/**
 * Window-wide keys: Ctrl+Enter queues (even from a widget), Ctrl+Z / Ctrl+Shift+Z / Ctrl+Y undo and
 * redo, Ctrl+C / Ctrl+V copy and paste the selection, Ctrl+S saves the workflow.
 */
export function useShortcuts({ store, specsRef, info, flow, queue, undo, redo }: ShortcutActions): void {
  const clipboard = useRef<Graph | undefined>(undefined);
  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      const mod = e.ctrlKey || e.metaKey;
      if (mod && e.key === 'Enter') {
        e.preventDefault();
        void queue();
        return;
      }
      if (!mod || isEditable(e.target)) return;
      const k = e.key.toLowerCase();
      if (k === 'z' && !e.shiftKey) undo();
      else if ((k === 'z' && e.shiftKey) || k === 'y') redo();
      else if (k === 'c') clipboard.current = copySelection(store.get());
      else if (k === 'v' && clipboard.current) store.commit(pasteInto(store.get(), clipboard.current, { x: 40, y: 40 }));
      else if (k === 's') download('workflow.json', toUiDocument(store.get(), specsRef.current, info, flow.getViewport()));
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [queue, undo, redo, store, specsRef, info, flow]);
}
