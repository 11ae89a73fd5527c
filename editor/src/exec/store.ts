import type { ApiWorkflow } from '../../../engine/workflow.js';
import { EMPTY_EXEC, reduceExec, type ExecAction, type ExecState, type NodeExec } from './state.js';

type Listener = () => void;
const NONE: NodeExec = {};
/** NOTE: prompts kept for the ancestor rule; older ones can no longer be running. */
const MAX_PROMPTS = 50;

/** Execution state, outside the nodes array: each node component subscribes to its own entry. */
export class ExecStore {
  private state: ExecState = EMPTY_EXEC;
  private readonly prompts = new Map<string, ApiWorkflow>();
  private readonly nodeListeners = new Map<string, Set<Listener>>();
  private readonly listeners = new Set<Listener>();

  readonly get = (): ExecState => this.state;

  node(id: string): NodeExec {
    return this.state.nodes.get(id) ?? NONE;
  }

  readonly subscribe = (fn: Listener): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  subscribeNode(id: string, fn: Listener): () => void {
    const set = this.nodeListeners.get(id) ?? new Set();
    set.add(fn);
    this.nodeListeners.set(id, set);
    return () => {
      set.delete(fn);
      if (set.size === 0) this.nodeListeners.delete(id);
    };
  }

  /** Remembers which graph a prompt id runs. */
  track(promptId: string, prompt: ApiWorkflow): void {
    this.prompts.set(promptId, prompt);
    if (this.prompts.size > MAX_PROMPTS) this.prompts.delete(this.prompts.keys().next().value!);
  }

  dispatch(action: ExecAction): void {
    const prev = this.state;
    const next = reduceExec(prev, action, performance.now(), this.prompts);
    if (next === prev) return;
    this.state = next;
    for (const [id, e] of next.nodes) {
      const old = prev.nodes.get(id);
      if (old === e) continue;
      // Replaced preview frames are released; each is a full JPEG.
      if (old?.preview && old.preview !== e.preview) URL.revokeObjectURL(old.preview);
      this.nodeListeners.get(id)?.forEach((fn) => fn());
    }
    this.listeners.forEach((fn) => fn());
  }
}
