import { useEffect } from 'react';
import { stringifyExact } from '../graph/json-text.js';
import type { NodeSpec, ObjectInfo } from '../graph/spec.js';
import type { GraphStore } from '../graph/store.js';
import { toUiDocument, type Viewport } from '../graph/to-ui.js';

export const AUTOSAVE_KEY = 'latentflow.editor.workflow';
/** NOTE: writes are debounced; a drag produces a change per frame. */
const DEBOUNCE_MS = 400;

/** Keeps the graph in localStorage as the versioned UI document, so a reload reopens it. */
export function useAutosave(store: GraphStore, specs: ReadonlyMap<string, NodeSpec>, info: ObjectInfo, viewport: () => Viewport): void {
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const save = (): void => {
      try {
        localStorage.setItem(AUTOSAVE_KEY, stringifyExact(toUiDocument(store.get(), specs, info, viewport())));
      } catch {
        // Storage full or disabled: the editor keeps working without autosave.
      }
    };
    const unsubscribe = store.subscribe(() => {
      clearTimeout(timer);
      timer = setTimeout(save, DEBOUNCE_MS);
    });
    return () => {
      clearTimeout(timer);
      unsubscribe();
    };
  }, [store, specs, info, viewport]);
}
