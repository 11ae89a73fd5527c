import { ApiRequestError, queuePrompt } from '../api/client.js';
import { newPromptId } from '../api/prompt-id.js';
import type { ExecStore } from '../exec/store.js';
import { applySeedControls } from '../graph/seed-control.js';
import type { NodeSpec, ObjectInfo } from '../graph/spec.js';
import type { GraphStore } from '../graph/store.js';
import { toApi } from '../graph/to-api.js';
import { toUiDocument, type Viewport } from '../graph/to-ui.js';
import { inputNameOf } from '../graph/types.js';
import { validateGraph } from '../graph/validate.js';
import { nodeErrorsToIssues, serverMessage } from '../graph/server-errors.js';

export interface QueueContext {
  readonly store: GraphStore;
  readonly exec: ExecStore;
  readonly specs: ReadonlyMap<string, NodeSpec>;
  readonly info: ObjectInfo;
  readonly clientId: string;
  readonly viewport: () => Viewport;
}

export type QueueOutcome = { ok: true; promptIds: string[] } | { ok: false; message: string };

/**
 * Validates, then queues the graph `batch` times; after each queueing, seeds move by their
 * control mode (ComfyUI's "control after generate"), so each batch item gets its own seed.
 */
export async function queueGraph(ctx: QueueContext, batch: number): Promise<QueueOutcome> {
  const { store, exec, specs } = ctx;
  const check = validateGraph(store.get(), specs);
  if (check.issues.size > 0 || check.global.length > 0) {
    const message = [...check.global, ...(check.issues.size ? [`${check.issues.size} node(s) need attention`] : [])].join('; ');
    exec.dispatch({ kind: 'issues', issues: check.issues, message });
    return { ok: false, message };
  }
  exec.dispatch({ kind: 'clear-issues' });
  const promptIds: string[] = [];
  for (let i = 0; i < Math.max(1, batch); i++) {
    const graph = store.get();
    const prompt = toApi(graph, specs);
    const workflow = toUiDocument(graph, specs, ctx.info, ctx.viewport());
    try {
      const id = newPromptId();
      exec.track(id, prompt);
      const q = await queuePrompt(prompt, ctx.clientId, workflow, id);
      promptIds.push(q.promptId);
    } catch (e) {
      if (e instanceof ApiRequestError) {
        const message = serverMessage(e.body, e.message);
        exec.dispatch({ kind: 'issues', issues: nodeErrorsToIssues(e.body), message });
        return { ok: false, message };
      }
      const message = e instanceof Error ? e.message : String(e);
      return { ok: false, message };
    }
    const now = store.get();
    const linked = new Set(now.edges.map((e) => `${e.target}\u0000${inputNameOf(e.targetHandle)}`));
    store.set({ ...now, nodes: applySeedControls(now.nodes, specs, (id, input) => linked.has(`${id}\u0000${input}`)) });
  }
  return { ok: true, promptIds };
}
