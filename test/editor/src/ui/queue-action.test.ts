import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { ApiWorkflow } from '../../../../engine/workflow.js';
import { ExecStore } from '../../../../editor/src/exec/store.js';
import { buildDefaultGraph } from '../../../../editor/src/graph/default-workflow.js';
import { readNodeSpecs, type NodeSpec, type ObjectInfo } from '../../../../editor/src/graph/spec.js';
import { GraphStore } from '../../../../editor/src/graph/store.js';
import { realObjectInfo } from '../../object-info.js';

// The server finishes a fully cached prompt, and its WebSocket events arrive, before the POST response.
const exec = new ExecStore();
const posted: { prompt: ApiWorkflow; promptId: string }[] = [];
vi.mock('../../../../editor/src/api/client.js', () => ({
  ApiRequestError: class extends Error {},
  queuePrompt: async (prompt: ApiWorkflow, _client: string, _workflow: unknown, promptId: string) => {
    posted.push({ prompt, promptId });
    const ws = (type: string, data: Record<string, unknown>): void => exec.dispatch({ kind: 'ws', type, data: { prompt_id: promptId, ...data } });
    ws('execution_start', {});
    ws('execution_cached', { nodes: Object.keys(prompt) });
    ws('executing', { node: null });
    ws('execution_success', {});
    return { promptId, number: posted.length };
  },
}));
const { queueGraph } = await import('../../../../editor/src/ui/queue-action.js');

let info: ObjectInfo;
let specs: Map<string, NodeSpec>;
beforeAll(async () => {
  info = await realObjectInfo();
  specs = readNodeSpecs(info);
});

describe('queueGraph', () => {
  it('tracks the prompt under its own id before posting, so a run that finishes first still counts as the last run', async () => {
    const store = new GraphStore(buildDefaultGraph(specs)!);
    const out = await queueGraph({ store, exec, specs, info, clientId: 'c', viewport: () => ({ x: 0, y: 0, zoom: 1 }) }, 1);
    expect(out).toEqual({ ok: true, promptIds: [posted[0]!.promptId] });
    const last = exec.get().lastRun;
    expect(last?.prompt).toBe(posted[0]!.prompt);
    expect([...last!.ran].sort()).toEqual(Object.keys(posted[0]!.prompt).sort());
  });
});
