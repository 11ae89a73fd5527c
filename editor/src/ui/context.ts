import { createContext, useContext } from 'react';
import type { JsonValue } from '../../../engine/json.js';
import type { ExecStore } from '../exec/store.js';
import type { NodeSpec } from '../graph/spec.js';
import type { SeedControl } from '../graph/types.js';

/** What node components need from the editor, stable across renders so memoised nodes stay put. */
export interface EditorActions {
  readonly specs: ReadonlyMap<string, NodeSpec>;
  readonly exec: ExecStore;
  setValue(nodeId: string, input: string, value: JsonValue): void;
  setControl(nodeId: string, input: string, mode: SeedControl): void;
  upload(nodeId: string, input: string, file: File): void;
}

export const EditorContext = createContext<EditorActions | null>(null);

export function useEditor(): EditorActions {
  const ctx = useContext(EditorContext);
  if (!ctx) throw new Error('useEditor outside EditorContext');
  return ctx;
}
