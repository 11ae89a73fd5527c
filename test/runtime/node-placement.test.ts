import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cpuFallbackSummary, nodePlacements, parsePlacementLog } from '../../runtime/node-placement.js';
import { GraphBuilder } from '../../toyworld/onnx/builder.js';
import { webgpuProblem, webgpuTitle } from '../fixtures/webgpu.js';
import { writeModel } from './fixtures/models.js';

/** onnxruntime 1.30's verbose log around "Node placements", as it prints it for toyworld's U-Net on webgpu (shortened). */
const LOG = `2026-12-04 18:21:25.388067144 [V:onnxruntime:, session_state.cc:1377 VerifyEachNodeIsAssignedToAnEp] Node placements
2026-12-04 18:21:25.388086511 [V:onnxruntime:, session_state.cc:1383 VerifyEachNodeIsAssignedToAnEp]  Node(s) placed on [CPUExecutionProvider]. Number of nodes: 2
2026-12-04 18:21:25.388098383 [V:onnxruntime:, session_state.cc:1385 VerifyEachNodeIsAssignedToAnEp]   Add (Add_node_5)
2026-12-04 18:21:25.388106098 [V:onnxruntime:, session_state.cc:1385 VerifyEachNodeIsAssignedToAnEp]   LogSoftmax (LogSoftmax_node_19)
2026-12-04 18:21:25.388117279 [V:onnxruntime:, session_state.cc:1383 VerifyEachNodeIsAssignedToAnEp]  Node(s) placed on [WebGpuExecutionProvider]. Number of nodes: 3
2026-12-04 18:21:25.388121006 [V:onnxruntime:, session_state.cc:1385 VerifyEachNodeIsAssignedToAnEp]   Reshape (Reshape_node_0)
2026-12-04 18:21:25.388131797 [V:onnxruntime:, session_state.cc:1385 VerifyEachNodeIsAssignedToAnEp]   Sub (Sub_node_3)
2026-12-04 18:21:25.388131797 [V:onnxruntime:, session_state.cc:1385 VerifyEachNodeIsAssignedToAnEp]   MemcpyFromHost (Memcpy)
2026-12-04 18:21:25.546786951 [V:onnxruntime:, session_state.cc:186 CreateGraphInfo] SaveMLValueNameIndexMapping`;

describe('parsePlacementLog', () => {
  it('reads nodes per provider and summarises the CPU fallbacks without counting copies', () => {
    const p = parsePlacementLog(LOG);
    expect(p.get('CPUExecutionProvider')).toEqual([{ op: 'Add', name: 'Add_node_5' }, { op: 'LogSoftmax', name: 'LogSoftmax_node_19' }]);
    expect(p.get('WebGpuExecutionProvider')).toHaveLength(3);
    expect(cpuFallbackSummary(p)).toBe('2 of 4 nodes run on the CPU: Add x1 (Add_node_5); LogSoftmax x1 (LogSoftmax_node_19)');
  });

  it('reads the one-line form when every node is on one provider', () => {
    const p = parsePlacementLog('x [V:onnxruntime:, session_state.cc:1380 VerifyEachNodeIsAssignedToAnEp]  All nodes placed on [WebGpuExecutionProvider]. Number of nodes: 3\n');
    expect(p.get('WebGpuExecutionProvider')).toEqual({ count: 3 });
    expect(cpuFallbackSummary(p)).toBeUndefined();
  });
});

const dir = mkdtempSync(path.join(tmpdir(), 'lf-placement-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const problem = await webgpuProblem();
describe.skipIf(problem !== undefined)(webgpuTitle('nodePlacements on webgpu', problem), () => {
  it('accounts for every node of a model, from the child process log', async () => {
    const g = new GraphBuilder('placed');
    const x = g.input('x', 'float32', [1, 8]);
    g.output('y', g.op('LogSoftmax', [g.op('Relu', [g.op('Tanh', [x])])]), 'float32', [1, 8]);
    const p = await nodePlacements(writeModel(dir, 'placed.onnx', g), { kind: 'webgpu' });
    const names = [...p.values()].flatMap((v) => (Array.isArray(v) ? v.filter((n) => !n.op.startsWith('Memcpy')).map((n) => n.op) : Array<string>(v.count).fill('?')));
    expect(names).toHaveLength(3);
    expect([...p.keys()].every((k) => k === 'CPUExecutionProvider' || k === 'WebGpuExecutionProvider')).toBe(true);
  });
});
