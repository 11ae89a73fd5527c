import type { Graph } from './types.js';

const MAX_HISTORY = 200;
/** NOTE: edits of one field within this many ms form one undo step (typing a number). */
const COALESCE_MS = 1200;

type Listener = () => void;

/**
 * The editor's graph with undo/redo. `commit` records an undo point; `set` does not (drag frames,
 * selection, measurements). Snapshots share unchanged node objects, so history is cheap.
 */
export class GraphStore {
  private state: Graph;
  private undoStack: Graph[] = [];
  private redoStack: Graph[] = [];
  private lastKey: string | undefined;
  private lastAt = 0;
  private readonly listeners = new Set<Listener>();

  constructor(initial: Graph = { nodes: [], edges: [] }) {
    this.state = initial;
  }

  readonly get = (): Graph => this.state;

  readonly subscribe = (fn: Listener): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  get canUndo(): boolean {
    return this.undoStack.length > 0;
  }

  get canRedo(): boolean {
    return this.redoStack.length > 0;
  }

  /** Replaces the graph without an undo point. */
  set(next: Graph): void {
    if (next === this.state) return;
    this.state = next;
    this.emit();
  }

  /**
   * Records the current graph as an undo point. Calls with the same `key` in quick succession
   * (keystrokes in one field) share one point.
   */
  checkpoint(key?: string, now: number = Date.now()): void {
    const merge = key !== undefined && key === this.lastKey && now - this.lastAt < COALESCE_MS;
    this.lastKey = key;
    this.lastAt = now;
    if (merge) return;
    this.undoStack.push(this.state);
    if (this.undoStack.length > MAX_HISTORY) this.undoStack.shift();
    this.redoStack = [];
  }

  /** An undoable change. */
  commit(next: Graph, key?: string, now?: number): void {
    if (next === this.state) return;
    this.checkpoint(key, now);
    this.state = next;
    this.emit();
  }

  undo(): boolean {
    const prev = this.undoStack.pop();
    if (!prev) return false;
    this.redoStack.push(this.state);
    this.lastKey = undefined;
    this.state = prev;
    this.emit();
    return true;
  }

  redo(): boolean {
    const next = this.redoStack.pop();
    if (!next) return false;
    this.undoStack.push(this.state);
    this.lastKey = undefined;
    this.state = next;
    this.emit();
    return true;
  }

  private emit(): void {
    for (const fn of this.listeners) fn();
  }
}
