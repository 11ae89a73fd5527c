import { beforeAll, describe, expect, it } from 'vitest';
import type { ApiWorkflow, JsonValue } from '../../../engine/index.js';
import { UiWorkflowError } from '../../../engine/formats/format-errors.js';
import { uiToApi } from '../../../engine/formats/ui-to-api.js';
import { TEST_INFO, loadExample, objectInfoFromPrompt, pack, type Example, type Obj } from './helpers.js';
import { COMFYUI_EXAMPLES, describeWith } from '../../fixtures/shared-data.js';

/** `prompt` with the packed nodes renamed `instance:id`, as the frontend numbers them in its prompts. */
function renamed(prompt: ApiWorkflow, rename: Map<string, string>): ApiWorkflow {
  const out: ApiWorkflow = {};
  for (const [id, node] of Object.entries(prompt)) {
    const inputs = Object.fromEntries(Object.entries(node.inputs).map(([k, v]) => [k, Array.isArray(v) ? [rename.get(String(v[0])) ?? v[0], v[1]] : v])) as typeof node.inputs;
    out[rename.get(id) ?? id] = { ...node, inputs };
  }
  return out;
}

const withoutMeta = (api: ApiWorkflow) => Object.fromEntries(Object.entries(api).map(([id, n]) => [id, { class_type: n.class_type, inputs: n.inputs }]));

describeWith(COMFYUI_EXAMPLES, 'subgraphs in a real ComfyUI document (the 2-pass hires-fix example)', () => {
  // Read in a hook: vitest collects a skipped suite too, and the file is absent then.
  let ex: Example;
  let info: ReturnType<typeof objectInfoFromPrompt>;
  beforeAll(() => {
    ex = loadExample('2_pass_txt2img_hiresfix_latent_workflow.png');
    info = objectInfoFromPrompt(ex.prompt);
  });
  const ids = (type: string) => ((ex.workflow as Obj).nodes as Obj[]).filter((n) => n.type === type).map((n) => n.id as number);

  it('packing both samplers and the latent upscale converts to the same prompt, numbered instance:inner', () => {
    const packed = [...ids('KSampler'), ...ids('LatentUpscale')];
    expect(packed.length).toBe(3);
    const doc = pack(ex.workflow as Obj, packed, 500);
    const rename = new Map(packed.map((id) => [String(id), `500:${id}`]));
    expect(withoutMeta(uiToApi(doc, info))).toEqual(withoutMeta(renamed(ex.prompt, rename)));
  });

  it('nested subgraphs (a subgraph inside a subgraph) number inner nodes outer:inner:id', () => {
    const samplers = ids('KSampler');
    const first = pack(ex.workflow as Obj, [samplers[0]!], 500);
    const nested = pack(first, [500, ...ids('VAEDecode')], 600);
    const rename = new Map([[String(samplers[0]), `600:500:${samplers[0]}`], ...ids('VAEDecode').map((id) => [String(id), `600:${id}`] as [string, string])]);
    expect(withoutMeta(uiToApi(nested, info))).toEqual(withoutMeta(renamed(ex.prompt, rename)));
  });
});

type In = [name: string, type: string, link: number | null, widget?: boolean];
const node = (id: number, type: string, inputs: In[] = [], outputs: [string, string][] = [], extra: Obj = {}): Obj => ({
  id,
  type,
  mode: 0,
  inputs: inputs.map(([name, t, link, widget]) => ({ name, type: t, link, ...(widget ? { widget: { name } } : {}) })),
  outputs: outputs.map(([name, t]) => ({ name, type: t, links: [] })),
  properties: {},
  ...extra,
});
const SG = '11111111-2222-4333-8444-555555555555';

/** A subgraph wrapping one Sampler (inner node 3): inputs model, latent, seed (to the sampler's seed widget); output LATENT. */
function samplerSubgraph(extraInner: Obj[] = [], extraLinks: Obj[] = []): Obj {
  return {
    id: SG,
    name: 'sampler',
    inputs: [
      { id: 'a', name: 'model', type: 'MODEL', linkIds: [10] },
      { id: 'b', name: 'latent', type: 'LATENT', linkIds: [11] },
      { id: 'c', name: 'seed', type: 'INT', linkIds: [12] },
    ],
    outputs: [{ id: 'd', name: 'LATENT', type: 'LATENT', linkIds: [13] }],
    nodes: [node(3, 'Sampler', [['model', 'MODEL', 10], ['latent', 'LATENT', 11], ['seed', 'INT', 12, true]], [['LATENT', 'LATENT']], { widgets_values: [7, 'fixed', 25, 'heun', 0.5] }), ...extraInner],
    links: [
      { id: 10, origin_id: -10, origin_slot: 0, target_id: 3, target_slot: 0, type: 'MODEL' },
      { id: 11, origin_id: -10, origin_slot: 1, target_id: 3, target_slot: 1, type: 'LATENT' },
      { id: 12, origin_id: -10, origin_slot: 2, target_id: 3, target_slot: 2, type: 'INT' },
      { id: 13, origin_id: 3, origin_slot: 0, target_id: -20, target_slot: 0, type: 'LATENT' },
      ...extraLinks,
    ],
  };
}

/** Loader 1 and Empty 2 feed instance 5 of the sampler subgraph, whose output goes to Upscale 6. */
function hostDoc(instance: Obj = {}, def: Obj = samplerSubgraph()): Obj {
  return {
    version: 0.4,
    nodes: [
      node(1, 'Loader', [], [['MODEL', 'MODEL'], ['CLIP', 'CLIP'], ['VAE', 'VAE']], { widgets_values: ['a.safetensors'] }),
      node(2, 'Empty', [], [['LATENT', 'LATENT']], { widgets_values: [64, 64] }),
      node(5, SG, [['model', 'MODEL', 1], ['latent', 'LATENT', 2], ['seed', 'INT', null, true]], [['LATENT', 'LATENT']], { widgets_values: [123], ...instance }),
      node(6, 'Upscale', [['samples', 'LATENT', 3]], [['LATENT', 'LATENT']], { widgets_values: [1.5] }),
    ],
    links: [
      [1, 1, 0, 5, 0, 'MODEL'],
      [2, 2, 0, 5, 1, 'LATENT'],
      [3, 5, 0, 6, 0, 'LATENT'],
    ],
    definitions: { subgraphs: [def] },
  };
}

describe('subgraph instances (ComfyUI frontend schema)', () => {
  it("feeds inner nodes from the instance's links and its widget inputs' values", () => {
    const api = uiToApi(hostDoc(), TEST_INFO);
    expect(Object.keys(api).sort()).toEqual(['1', '2', '5:3', '6']);
    expect(api['5:3']!.inputs).toEqual({ model: ['1', 0], latent: ['2', 0], seed: 123, steps: 25, sampler_name: 'heun', denoise: 0.5 });
    expect(api['6']!.inputs).toEqual({ samples: ['5:3', 0], scale: 1.5 });
  });

  it('applies proxyWidgets values to the inner widgets they name, skipping frontend-only widgets', () => {
    const api = uiToApi(hostDoc({ properties: { proxyWidgets: [['-1', 'seed'], ['3', 'steps'], ['3', 'control_after_generate']] }, widgets_values: [99, 40, 'increment'] }), TEST_INFO);
    expect(api['5:3']!.inputs).toMatchObject({ seed: 99, steps: 40, sampler_name: 'heun' });
  });

  it('keeps the inner values, with a warning, when proxyWidgets and widgets_values do not line up', () => {
    const warnings: string[] = [];
    const api = uiToApi(hostDoc({ properties: { proxyWidgets: [['3', 'steps'], ['3', 'denoise']] }, widgets_values: [40] }), TEST_INFO, { onWarning: (w) => warnings.push(w) });
    expect(api['5:3']!.inputs).toMatchObject({ seed: 7, steps: 25, denoise: 0.5 });
    expect(warnings).toEqual(["node 5: 2 promoted widgets but 1 values; the subgraph's own values are kept"]);
  });

  it('an unconnected subgraph input leaves the inner widget its own value', () => {
    const api = uiToApi(hostDoc({ widgets_values: [] }), TEST_INFO);
    expect(api['5:3']!.inputs.seed).toBe(7);
  });

  it('passes an input straight through to an output (-10 to -20)', () => {
    const def = samplerSubgraph();
    (def.outputs as Obj[]).push({ id: 'e', name: 'model_out', type: 'MODEL', linkIds: [14] });
    (def.links as Obj[]).push({ id: 14, origin_id: -10, origin_slot: 0, target_id: -20, target_slot: 1, type: 'MODEL' });
    const doc = hostDoc({ outputs: [{ name: 'LATENT', type: 'LATENT', links: [3] }, { name: 'model_out', type: 'MODEL', links: [4] }] }, def);
    (doc.nodes as Obj[]).push(node(7, 'Sampler', [['model', 'MODEL', 4], ['latent', 'LATENT', null]], [['LATENT', 'LATENT']], { widgets_values: [1, 'fixed', 2, 'euler', 1] }));
    (doc.links as JsonValue[]).push([4, 5, 1, 7, 0, 'MODEL']);
    expect(uiToApi(doc, TEST_INFO)['7']!.inputs.model).toEqual(['1', 0]);
  });

  it('a muted instance is removed with what it fed; a bypassed one passes its LATENT input through', () => {
    const muted = uiToApi(hostDoc({ mode: 2 }), TEST_INFO);
    expect(Object.keys(muted).sort()).toEqual(['1', '2', '6']);
    expect(muted['6']!.inputs).toEqual({ scale: 1.5 });
    const bypassed = uiToApi(hostDoc({ mode: 4 }), TEST_INFO);
    expect(Object.keys(bypassed).sort()).toEqual(['1', '2', '6']);
    expect(bypassed['6']!.inputs.samples).toEqual(['2', 0]);
  });

  it('warns about a subgraph output that nothing inside feeds, and leaves its consumer unconnected', () => {
    const def = samplerSubgraph();
    def.links = (def.links as Obj[]).filter((l) => l.id !== 13);
    const warnings: string[] = [];
    const api = uiToApi(hostDoc({}, def), TEST_INFO, { onWarning: (w) => warnings.push(w) });
    expect(api['6']!.inputs).toEqual({ scale: 1.5 });
    expect(warnings).toEqual(['node 5: subgraph output 0 is not connected inside the subgraph; left unconnected']);
  });

  it('refuses a subgraph that contains itself, naming it', () => {
    const def = samplerSubgraph([node(4, SG)]);
    expect(() => uiToApi(hostDoc({}, def), TEST_INFO)).toThrow(UiWorkflowError);
    expect(() => uiToApi(hostDoc({}, def), TEST_INFO)).toThrow("node 5:4: subgraph 'sampler' contains itself");
  });

  it('reports unknown node types inside subgraphs with their full ids', () => {
    const def = samplerSubgraph([node(4, 'Mystery')]);
    expect(() => uiToApi(hostDoc({}, def), TEST_INFO)).toThrow('unknown node type: Mystery (node 5:4)');
  });
});
