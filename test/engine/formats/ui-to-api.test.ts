import { describe, expect, it } from 'vitest';
import type { JsonValue } from '../../../engine/index.js';
import { uiToApi, typesConnect } from '../../../engine/formats/ui-to-api.js';
import { UiWorkflowError, UnknownNodeTypesError, UnsupportedWorkflowFeatureError } from '../../../engine/formats/format-errors.js';
import { TEST_INFO } from './helpers.js';

type In = [name: string, type: string, link: number | null, widget?: boolean];
interface NodeSpec {
  inputs?: In[];
  outputs?: [string, string][];
  wv?: JsonValue[] | { [k: string]: JsonValue };
  mode?: number;
  title?: string;
}

function node(id: number, type: string, spec: NodeSpec = {}): JsonValue {
  return {
    id,
    type,
    pos: [0, 0],
    size: [100, 100],
    flags: {},
    order: 0,
    mode: spec.mode ?? 0,
    ...(spec.title !== undefined ? { title: spec.title } : {}),
    inputs: (spec.inputs ?? []).map(([name, type, link, widget]) => ({ name, type, link, ...(widget ? { widget: { name } } : {}) })),
    outputs: (spec.outputs ?? []).map(([name, type]) => ({ name, type, links: [] })),
    properties: {},
    ...(spec.wv !== undefined ? { widgets_values: spec.wv } : {}),
  };
}

function doc(nodes: JsonValue[], links: JsonValue[][], extra: { [k: string]: JsonValue } = {}): JsonValue {
  return { last_node_id: 99, last_link_id: 99, nodes, links, groups: [{ title: 'G', bounding: [0, 0, 1, 1] }], config: {}, extra: {}, version: 0.4, ...extra };
}

const loader = (id = 1, mode = 0) => node(id, 'Loader', { outputs: [['MODEL', 'MODEL'], ['CLIP', 'CLIP'], ['VAE', 'VAE']], wv: ['a.safetensors'], mode });
const empty = (id = 2) => node(id, 'Empty', { outputs: [['LATENT', 'LATENT']], wv: [640, 480] });

describe('uiToApi widgets', () => {
  it('maps widget values by input_order, dropping the seed control value', () => {
    const api = uiToApi(
      doc(
        [
          loader(),
          empty(),
          node(3, 'Sampler', { inputs: [['model', 'MODEL', 1], ['latent', 'LATENT', 2]], outputs: [['LATENT', 'LATENT']], wv: [42, 'randomize', 30, 'heun', 0.5] }),
        ],
        [
          [1, 1, 0, 3, 0, 'MODEL'],
          [2, 2, 0, 3, 1, 'LATENT'],
        ],
      ),
      TEST_INFO,
    );
    expect(api['3']).toEqual({
      class_type: 'Sampler',
      inputs: { seed: 42, steps: 30, sampler_name: 'heun', denoise: 0.5, model: ['1', 0], latent: ['2', 0] },
      _meta: { title: 'Sampler (display)' },
    });
    expect(api['1']!.inputs).toEqual({ ckpt_name: 'a.safetensors' });
    expect(api['2']!.inputs).toEqual({ width: 640, height: 480 });
  });

  it('gives legacy seed names a control value and drops the upload button value (after the required inputs)', () => {
    const api = uiToApi(doc([node(1, 'Legacy', { wv: [7, 'fixed', 'x'] }), node(2, 'Image', { wv: ['y.png', 'hello', 'image'] })], []), TEST_INFO);
    expect(api['1']!.inputs).toEqual({ noise_seed: 7, tags: 'x' });
    expect(api['2']!.inputs).toEqual({ image: 'y.png', note: 'hello' });
  });

  it('fills missing widget values with the defaults a fresh widget would hold', () => {
    const api = uiToApi(doc([node(1, 'Sampler', { wv: [5, 'fixed'] }), node(2, 'Loader')], []), TEST_INFO);
    expect(api['1']!.inputs).toEqual({ seed: 5, steps: 20, sampler_name: 'euler', denoise: 1 });
    expect(api['2']!.inputs).toEqual({ ckpt_name: 'a.safetensors' });
  });

  it('reads old files that kept a value for forceInput inputs', () => {
    const api = uiToApi(doc([node(1, 'Sampler', { wv: [1, 'fixed', 2, 'euler', 0.3, 99] })], []), TEST_INFO);
    expect(api['1']!.inputs).toEqual({ seed: 1, steps: 2, sampler_name: 'euler', denoise: 0.3 });
  });

  it('reads widget values stored by name and wraps literal lists', () => {
    const api = uiToApi(doc([node(1, 'Legacy', { wv: { noise_seed: 3, tags: 'a' } }), node(2, 'Save', { wv: [['a', 'b']] })], []), TEST_INFO);
    expect(api['1']!.inputs).toEqual({ noise_seed: 3, tags: 'a' });
    expect(api['2']!.inputs).toEqual({ prefix: { __value__: ['a', 'b'] } });
  });

  it('uses the link for a widget converted to an input (old marker and newer widget inputs alike)', () => {
    const legacy = node(5, 'Legacy', { outputs: [['INT', 'INT']], wv: [123, 'fixed', ''] });
    const converted = node(3, 'Sampler', { inputs: [['seed', 'INT', 7, true]], wv: [42, 'randomize', 20, 'euler', 1] });
    const api = uiToApi(doc([legacy, converted], [[7, 5, 0, 3, 0, 'INT']]), TEST_INFO);
    expect(api['3']!.inputs.seed).toEqual(['5', 0]);
    expect(api['3']!.inputs.steps).toBe(20);
  });

  it('takes _meta.title from node titles', () => {
    const api = uiToApi(doc([node(1, 'Loader', { title: 'My model', wv: ['b.safetensors'] })], []), TEST_INFO);
    expect(api['1']!._meta).toEqual({ title: 'My model' });
  });
});

describe('uiToApi links', () => {
  it('resolves links through chains of Reroute nodes and reads schema-1 link objects', () => {
    const nodes = [
      empty(),
      node(10, 'Reroute', { inputs: [['', '*', 1]], outputs: [['', 'LATENT']] }),
      node(11, 'Reroute', { inputs: [['', '*', 2]], outputs: [['', 'LATENT']] }),
      node(3, 'Upscale', { inputs: [['samples', 'LATENT', 3]], outputs: [['LATENT', 'LATENT']], wv: [1.5] }),
    ];
    const arrays = [
      [1, 2, 0, 10, 0, 'LATENT'],
      [2, 10, 0, 11, 0, 'LATENT'],
      [3, 11, 0, 3, 0, 'LATENT'],
    ];
    const v04 = uiToApi(doc(nodes, arrays), TEST_INFO);
    expect(v04['3']!.inputs.samples).toEqual(['2', 0]);
    expect(Object.keys(v04).sort()).toEqual(['2', '3']);
    const objects = arrays.map(([id, oi, os, ti, ts, type]) => ({ id, origin_id: oi, origin_slot: os, target_id: ti, target_slot: ts, type }) as JsonValue);
    const v1 = uiToApi({ version: 1, state: {}, nodes, links: objects } as JsonValue, TEST_INFO);
    expect(v1).toEqual(v04);
  });

  it('folds Primitive nodes into their targets, also through a Reroute', () => {
    const nodes = [
      node(20, 'PrimitiveNode', { outputs: [['INT', 'INT']], wv: [777, 'fixed'] }),
      node(21, 'Reroute', { inputs: [['', '*', 2]], outputs: [['', 'INT']] }),
      node(3, 'Sampler', { inputs: [['seed', 'INT', 1, true]], wv: [1, 'fixed', 20, 'euler', 1] }),
      node(4, 'Sampler', { inputs: [['seed', 'INT', 3, true]], wv: [1, 'fixed', 20, 'euler', 1] }),
    ];
    const links = [
      [1, 20, 0, 3, 0, 'INT'],
      [2, 20, 0, 21, 0, 'INT'],
      [3, 21, 0, 4, 0, 'INT'],
    ];
    const api = uiToApi(doc(nodes, links), TEST_INFO);
    expect(api['3']!.inputs.seed).toBe(777);
    expect(api['4']!.inputs.seed).toBe(777);
    expect(Object.keys(api).sort()).toEqual(['3', '4']);
  });

  it('skips Note and MarkdownNote nodes and ignores groups', () => {
    const api = uiToApi(doc([node(1, 'Note', { wv: ['hi'] }), node(2, 'MarkdownNote', { wv: ['# hi'] }), empty(3)], []), TEST_INFO);
    expect(Object.keys(api)).toEqual(['3']);
  });

  it('removes muted nodes and the inputs they fed', () => {
    const api = uiToApi(
      doc([loader(1, 2), node(3, 'Decode', { inputs: [['samples', 'LATENT', null], ['vae', 'VAE', 1]], outputs: [['IMAGE', 'IMAGE']] })], [[1, 1, 2, 3, 1, 'VAE']]),
      TEST_INFO,
    );
    expect(api).toEqual({ '3': { class_type: 'Decode', inputs: {}, _meta: { title: 'Decode (display)' } } });
  });

  it('passes bypassed nodes through by type, preferring the same slot', () => {
    const nodes = [
      empty(2),
      node(5, 'Upscale', { mode: 4, inputs: [['samples', 'LATENT', 1]], outputs: [['LATENT', 'LATENT']], wv: [2] }),
      node(6, 'Upscale', { mode: 4, inputs: [['samples', 'LATENT', 2]], outputs: [['LATENT', 'LATENT']], wv: [2] }),
      node(7, 'Upscale', { inputs: [['samples', 'LATENT', 3]], outputs: [['LATENT', 'LATENT']], wv: [3] }),
    ];
    const links = [
      [1, 2, 0, 5, 0, 'LATENT'],
      [2, 5, 0, 6, 0, 'LATENT'],
      [3, 6, 0, 7, 0, 'LATENT'],
    ];
    const api = uiToApi(doc(nodes, links), TEST_INFO);
    expect(api['7']!.inputs.samples).toEqual(['2', 0]);
    expect(Object.keys(api).sort()).toEqual(['2', '7']);
  });

  it('finds a bypassed input of the consumed type at another slot, or leaves the input unconnected', () => {
    const bypassed = node(5, 'Decode', { mode: 4, inputs: [['samples', 'LATENT', 1], ['vae', 'VAE', 2]], outputs: [['IMAGE', 'IMAGE']] });
    const links = [
      [1, 2, 0, 5, 0, 'LATENT'],
      [2, 1, 2, 5, 1, 'VAE'],
      [3, 5, 0, 6, 0, 'IMAGE'],
    ];
    const warnings: string[] = [];
    const api = uiToApi(doc([loader(), empty(), bypassed, node(6, 'Save', { inputs: [['images', 'IMAGE', 3]], wv: ['p'] })], links), TEST_INFO, {
      onWarning: (w) => warnings.push(w),
    });
    expect(api['6']!.inputs).toEqual({ prefix: 'p' });
    expect(warnings.join('\n')).toMatch(/bypassed node 5/);

    const vaeThrough = node(8, 'Decode', { mode: 4, inputs: [['samples', 'LATENT', null], ['vae', 'VAE', 2]], outputs: [['VAE', 'VAE']] });
    const api2 = uiToApi(
      doc([loader(), vaeThrough, node(9, 'Decode', { inputs: [['samples', 'LATENT', null], ['vae', 'VAE', 4]] })], [
        [2, 1, 2, 8, 1, 'VAE'],
        [4, 8, 0, 9, 1, 'VAE'],
      ]),
      TEST_INFO,
    );
    expect(api2['9']!.inputs.vae).toEqual(['1', 2]);
  });

  it('leaves dangling links unconnected with a warning', () => {
    const warnings: string[] = [];
    const api = uiToApi(
      doc([node(3, 'Upscale', { inputs: [['samples', 'LATENT', 55]], wv: [2] }), node(4, 'Upscale', { inputs: [['samples', 'LATENT', 1]], wv: [2] })], [[1, 404, 0, 4, 0, 'LATENT']]),
      TEST_INFO,
      { onWarning: (w) => warnings.push(w) },
    );
    expect(api['3']!.inputs).toEqual({ scale: 2 });
    expect(api['4']!.inputs).toEqual({ scale: 2 });
    expect(warnings).toHaveLength(2);
  });

  it('throws UiWorkflowError for a cycle through Reroutes', () => {
    const nodes = [
      node(10, 'Reroute', { inputs: [['', '*', 2]], outputs: [['', '*']] }),
      node(11, 'Reroute', { inputs: [['', '*', 1]], outputs: [['', '*']] }),
      node(3, 'Upscale', { inputs: [['samples', 'LATENT', 3]], wv: [2] }),
    ];
    const links = [
      [1, 10, 0, 11, 0, '*'],
      [2, 11, 0, 10, 0, '*'],
      [3, 11, 0, 3, 0, '*'],
    ];
    expect(() => uiToApi(doc(nodes, links), TEST_INFO)).toThrow(UiWorkflowError);
  });

  it('follows litegraph type matching for comma lists and wildcards', () => {
    expect(typesConnect('IMAGE,MASK', 'mask')).toBe(true);
    expect(typesConnect('*', 'LATENT')).toBe(true);
    expect(typesConnect('IMAGE', 'LATENT')).toBe(false);
  });
});

describe('uiToApi errors', () => {
  it('lists every unknown node type with the nodes using it, ignoring muted and bypassed ones', () => {
    const d = doc([node(1, 'Mystery'), node(2, 'Mystery'), node(3, 'Other'), node(4, 'Gone', { mode: 2 }), node(5, 'Skipped', { mode: 4 }), empty(6)], []);
    let err: unknown;
    try {
      uiToApi(d, TEST_INFO);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnknownNodeTypesError);
    const u = err as UnknownNodeTypesError;
    expect(u.missing).toEqual([
      { type: 'Mystery', nodeIds: ['1', '2'] },
      { type: 'Other', nodeIds: ['3'] },
    ]);
    expect(u.message).toBe('unknown node types: Mystery (nodes 1, 2); Other (node 3)');
  });

  it('names legacy group nodes as unsupported', () => {
    const d = doc([node(1, 'workflow>My group')], [], { extra: { groupNodes: { 'My group': { nodes: [], links: [] } } } });
    expect(() => uiToApi(d, TEST_INFO)).toThrow(UnsupportedWorkflowFeatureError);
  });

  it('rejects malformed documents with UiWorkflowError', () => {
    expect(() => uiToApi([], TEST_INFO)).toThrow(UiWorkflowError);
    expect(() => uiToApi({ nodes: [{ id: 1 }] }, TEST_INFO)).toThrow(/no type/);
    expect(() => uiToApi({ nodes: [], links: [[1, 2]] }, TEST_INFO)).toThrow(/malformed/);
    expect(() => uiToApi({ nodes: [node(1, 'Empty'), node(1, 'Empty')] }, TEST_INFO)).toThrow(/twice/);
  });

  it('keeps node ids that would clash with Object.prototype as plain keys', () => {
    const api = uiToApi({ nodes: [{ id: '__proto__', type: 'Empty', widgets_values: [8, 8] }] }, TEST_INFO);
    expect(Object.keys(api)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(api)).toBe(Object.prototype);
  });
});
