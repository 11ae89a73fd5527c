import { beforeAll, describe, expect, it } from 'vitest';
import { buildDefaultGraph } from '../../../../editor/src/graph/default-workflow.js';
import { nodeErrorsToIssues, serverMessage } from '../../../../editor/src/graph/server-errors.js';
import { readNodeSpecs, type NodeSpec } from '../../../../editor/src/graph/spec.js';
import type { Graph } from '../../../../editor/src/graph/types.js';
import { validateGraph } from '../../../../editor/src/graph/validate.js';
import { parseJson } from '../../../../engine/json.js';
import { realObjectInfo } from '../../object-info.js';

let specs: Map<string, NodeSpec>;
let graph: Graph;
beforeAll(async () => {
  specs = readNodeSpecs(await realObjectInfo());
  graph = buildDefaultGraph(specs)!;
});

describe('validateGraph', () => {
  it('passes the default graph', () => {
    const r = validateGraph(graph, specs);
    expect(r.issues.size).toBe(0);
    expect(r.global).toEqual([]);
  });

  it('marks missing links, out-of-range numbers, unknown combo values and the lack of outputs', () => {
    const nodes = graph.nodes
      .filter((n) => n.data.classType !== 'SaveImage')
      .map((n) => (n.id === '3' ? { ...n, data: { ...n.data, values: { ...n.data.values, steps: 0, sampler_name: 'nope', seed: 2n ** 64n } } } : n));
    const edges = graph.edges.filter((e) => !(e.target === '3' && e.targetHandle === 'in:model'));
    const r = validateGraph({ nodes, edges }, specs);
    expect(r.issues.get('3')).toEqual({
      model: 'required input missing: model',
      steps: 'value smaller than min: 0 < 1',
      sampler_name: "value not in list: 'nope'",
      seed: `value bigger than max: ${2n ** 64n} > ${2n ** 64n - 1n}`,
    });
    expect(r.global[0]).toMatch(/no output node/);
  });
});

describe('server node_errors', () => {
  it('map to fields by extra_info.input_name', () => {
    const body = parseJson(
      '{"error": {"type": "prompt_outputs_failed_validation", "message": "Prompt outputs failed validation", "details": ""}, "node_errors": {"3": {"errors": [{"type": "value_smaller_than_min", "message": "Value 0 smaller than min of 1", "details": "steps", "extra_info": {"input_name": "steps"}}, {"type": "x", "message": "node-level", "details": "", "extra_info": {}}], "dependent_outputs": ["9"], "class_type": "KSampler"}}}',
    );
    expect(nodeErrorsToIssues(body)).toEqual(new Map([['3', { steps: 'Value 0 smaller than min of 1: steps', '': 'node-level' }]]));
    expect(serverMessage(body, 'fallback')).toBe('Prompt outputs failed validation');
  });
});
