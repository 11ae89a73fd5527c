import { beforeAll, describe, expect, it } from 'vitest';
import { checkConnection } from '../../../../editor/src/graph/connect.js';
import { buildDefaultGraph } from '../../../../editor/src/graph/default-workflow.js';
import { createNode } from '../../../../editor/src/graph/build.js';
import { readNodeSpecs, type NodeSpec } from '../../../../editor/src/graph/spec.js';
import { inHandle, outHandle, type Graph } from '../../../../editor/src/graph/types.js';
import { realObjectInfo } from '../../object-info.js';

let specs: Map<string, NodeSpec>;
let graph: Graph;

beforeAll(async () => {
  specs = readNodeSpecs(await realObjectInfo());
  const g = buildDefaultGraph(specs);
  if (!g) throw new Error('the registry lacks the txt2img nodes');
  graph = g;
});

const link = (source: string, slot: number, target: string, input: string) => ({ source, sourceHandle: outHandle(slot), target, targetHandle: inHandle(input) });

describe('checkConnection', () => {
  it('refuses a type mismatch with the engine canConnect reason', () => {
    // EmptyLatentImage LATENT -> VAEDecode vae
    const v = checkConnection(graph, specs, link('5', 0, '8', 'vae'));
    expect(v).toEqual({ ok: false, reason: 'type mismatch: output is LATENT, input expects VAE' });
  });

  it('refuses a second link into an occupied input', () => {
    const v = checkConnection(graph, specs, link('4', 0, '3', 'model'));
    expect(v.ok).toBe(false);
    expect(!v.ok && v.reason).toMatch(/one link per input: 'model'/);
  });

  it('accepts a matching free input and reports the types and slot', () => {
    const g: Graph = { ...graph, edges: graph.edges.filter((e) => !(e.target === '3' && e.targetHandle === 'in:model')) };
    expect(checkConnection(g, specs, link('4', 0, '3', 'model'))).toEqual({ ok: true, sourceType: 'MODEL', targetType: 'MODEL', input: 'model', slot: 0 });
  });

  it('refuses a link that closes a cycle', () => {
    const up = createNode(specs.get('LatentUpscale')!, '20', { x: 0, y: 0 });
    const g: Graph = { nodes: [...graph.nodes, up], edges: [...graph.edges, { id: 'x', source: '20', sourceHandle: 'out:0', target: '3', targetHandle: 'in:latent_image' }].filter((e) => !(e.id !== 'x' && e.target === '3' && e.targetHandle === 'in:latent_image')) };
    const v = checkConnection(g, specs, link('3', 0, '20', 'samples'));
    expect(v.ok).toBe(false);
    expect(!v.ok && v.reason).toMatch(/^cycle:/);
  });

  it('lets an INT output drive an INT widget (widget to input) and refuses it on a FLOAT-only mismatch', () => {
    const intType = [...specs.values()].find((s) => s.inputs.length > 0 && s.outputs.length === 1 && s.outputs[0]!.type === 'INT');
    expect(intType, 'a primitive node with one INT output').toBeDefined();
    const prim = createNode(intType!, '30', { x: 0, y: 0 });
    const g: Graph = { nodes: [...graph.nodes, prim], edges: graph.edges };
    expect(checkConnection(g, specs, link('30', 0, '3', 'steps')).ok).toBe(true);
    expect(checkConnection(g, specs, link('30', 0, '3', 'cfg')).ok).toBe(true); // INT -> FLOAT coercion
    expect(checkConnection(g, specs, link('30', 0, '6', 'text')).ok).toBe(false);
  });

  it('refuses handles that are not output -> input', () => {
    expect(checkConnection(graph, specs, { source: '4', sourceHandle: 'in:x', target: '3', targetHandle: 'in:model' }).ok).toBe(false);
    expect(checkConnection(graph, specs, { source: null, target: '3', targetHandle: 'in:model' }).ok).toBe(false);
  });
});
