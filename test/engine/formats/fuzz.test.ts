import { describe, expect, it } from 'vitest';
import { EngineError, type JsonValue, type ObjectInfoEntry } from '../../../engine/index.js';
import { uiToApi } from '../../../engine/formats/ui-to-api.js';
import { migrate } from '../../../engine/formats/migrate.js';
import { apiToUi } from '../../../engine/formats/api-to-ui.js';
import { isObject } from '../../../engine/formats/ui-graph.js';
import { EXAMPLES, TEST_INFO, loadExample, objectInfoFromPrompt, pack, type Obj } from './helpers.js';
import { COMFYUI_EXAMPLES, itWith } from '../../fixtures/shared-data.js';
import { mulberry32 } from '../../../toyworld/prng.js';

type Rng = () => number;
const pick = <T,>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;

const WRONG: readonly JsonValue[] = [null, -1, 0, 1.5, 2n ** 70n, 9007199254740993n, '', 'x', true, [], [1, 2], {}, { a: 1 }, 1e308];

/** Every container (object or array) inside `v`, with itself. */
function containers(v: JsonValue, out: (JsonValue[] | { [k: string]: JsonValue })[] = []): (JsonValue[] | { [k: string]: JsonValue })[] {
  if (Array.isArray(v)) {
    out.push(v);
    for (const x of v) containers(x, out);
  } else if (isObject(v)) {
    out.push(v);
    for (const x of Object.values(v)) containers(x, out);
  }
  return out;
}

function nodesOf(doc: JsonValue): { [k: string]: JsonValue }[] {
  return isObject(doc) && Array.isArray(doc.nodes) ? doc.nodes.filter(isObject) : [];
}

const MUTATIONS: readonly ((doc: JsonValue, rng: Rng) => void)[] = [
  // delete a field or an element
  (doc, rng) => {
    const c = pick(rng, containers(doc));
    if (Array.isArray(c)) {
      if (c.length) c.splice(Math.floor(rng() * c.length), 1);
    } else {
      const keys = Object.keys(c);
      if (keys.length) delete c[pick(rng, keys)];
    }
  },
  // put a value of the wrong type somewhere
  (doc, rng) => {
    const c = pick(rng, containers(doc));
    if (Array.isArray(c)) {
      if (c.length) c[Math.floor(rng() * c.length)] = pick(rng, WRONG);
    } else {
      const keys = Object.keys(c);
      if (keys.length) c[pick(rng, keys)] = pick(rng, WRONG);
    }
  },
  // dangling link: an input pointing at a link or a node that does not exist
  (doc, rng) => {
    const n = nodesOf(doc);
    const node = n.length ? pick(rng, n) : undefined;
    if (node && Array.isArray(node.inputs) && node.inputs.length) {
      const inp = pick(rng, node.inputs);
      if (isObject(inp)) inp.link = Math.floor(rng() * 1000);
    }
    if (isObject(doc) && Array.isArray(doc.links)) doc.links.push([5000, 4242, 0, node?.id ?? 1, 0, 'LATENT']);
  },
  // a cycle through two Reroutes feeding a real input
  (doc, rng) => {
    const n = nodesOf(doc);
    if (!isObject(doc) || !Array.isArray(doc.links) || !n.length) return;
    const target = pick(rng, n);
    doc.nodes = [
      ...n,
      { id: 9001, type: 'Reroute', mode: 0, inputs: [{ name: '', type: '*', link: 9101 }], outputs: [{ name: '', type: '*', links: [9102, 9103] }] },
      { id: 9002, type: 'Reroute', mode: 0, inputs: [{ name: '', type: '*', link: 9102 }], outputs: [{ name: '', type: '*', links: [9101] }] },
    ];
    doc.links.push([9101, 9002, 0, 9001, 0, '*'], [9102, 9001, 0, 9002, 0, '*'], [9103, 9001, 0, target.id ?? 0, 0, '*']);
    if (Array.isArray(target.inputs) && isObject(target.inputs[0])) target.inputs[0].link = 9103;
  },
  // huge and odd ids
  (doc, rng) => {
    const n = nodesOf(doc);
    if (n.length) pick(rng, n).id = pick(rng, [2n ** 64n, 2n ** 200n, -5, 'id with spaces', '__proto__', 'constructor', 1.25]);
    if (isObject(doc) && Array.isArray(doc.links) && doc.links.length) {
      const l = pick(rng, doc.links);
      if (Array.isArray(l)) l[Math.floor(rng() * l.length)] = pick(rng, [2n ** 64n, -1, 'x', null]);
    }
  },
  // random modes: mute or bypass nodes
  (doc, rng) => {
    for (const node of nodesOf(doc)) if (rng() < 0.3) node.mode = pick(rng, [0, 2, 4, 4]);
  },
];

/** A hand-made document with Reroutes, a Primitive, a Note and a bypassed node, to mutate as well. */
function richDoc(): JsonValue {
  const ui = apiToUi(
    {
      '1': { class_type: 'Loader', inputs: { ckpt_name: 'a.safetensors' } },
      '2': { class_type: 'Empty', inputs: { width: 64, height: 64 } },
      '3': { class_type: 'Sampler', inputs: { seed: 1, steps: 2, sampler_name: 'euler', denoise: 1, model: ['1', 0], latent: ['2', 0] } },
      '4': { class_type: 'Upscale', inputs: { samples: ['3', 0], scale: 2 } },
      '5': { class_type: 'Decode', inputs: { samples: ['4', 0], vae: ['1', 2] } },
      '6': { class_type: 'Save', inputs: { images: ['5', 0], prefix: 'x' } },
    },
    TEST_INFO,
  );
  const doc = JSON.parse(JSON.stringify(ui, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v))) as { nodes: JsonValue[]; links: JsonValue[] };
  doc.nodes.push({ id: 50, type: 'Note', mode: 0, widgets_values: ['n'] }, { id: 51, type: 'PrimitiveNode', mode: 0, outputs: [{ name: 'INT', type: 'INT', links: [] }], widgets_values: [7, 'fixed'] });
  return doc as unknown as JsonValue;
}

function attempt(doc: JsonValue, info: Record<string, ObjectInfoEntry>): void {
  try {
    const api = uiToApi(doc, info);
    expect(typeof api).toBe('object');
    if (isObject(doc)) uiToApi(migrate(doc), info);
  } catch (e) {
    if (!(e instanceof EngineError)) throw e;
    expect(e.name).toMatch(/^(UiWorkflowError|UnknownNodeTypesError|UnsupportedWorkflowFeatureError|WorkflowVersionError)$/);
  }
}

describe('fuzzed UI documents never crash the converter', () => {
  const bases: { doc: JsonValue; info: Record<string, ObjectInfoEntry> }[] = [
    { doc: richDoc(), info: TEST_INFO },
    // ComfyUI's own documents, when ../shared/data/comfyui-examples is there (the test below says when not).
    ...(COMFYUI_EXAMPLES.present
      ? EXAMPLES.map((f) => {
          const ex = loadExample(f);
          return { doc: ex.workflow, info: objectInfoFromPrompt(ex.prompt) };
        })
      : []),
    // Subgraphs: two nodes of the rich document packed, and a subgraph nested in another.
    { doc: pack(richDoc() as Obj, [3, 4], 60), info: TEST_INFO },
    { doc: pack(pack(richDoc() as Obj, [3], 60), [60, 5], 70), info: TEST_INFO },
  ];

  itWith(COMFYUI_EXAMPLES, 'includes the ComfyUI example documents among the bases', () => {
    expect(bases.length).toBe(3 + EXAMPLES.length);
  });

  it('converts the unmutated bases', () => {
    for (const { doc, info } of bases) expect(Object.keys(uiToApi(doc, info)).length).toBeGreaterThan(0);
  });

  it('either converts or throws a named error, over 600 mutated documents', () => {
    const rng = mulberry32(20240611);
    for (let i = 0; i < 600; i++) {
      const base = pick(rng, bases);
      const doc = structuredClone(base.doc);
      const count = 1 + Math.floor(rng() * 4);
      for (let m = 0; m < count; m++) pick(rng, MUTATIONS)(doc, rng);
      attempt(doc, base.info);
    }
  });

  it('handles a chain of 20,000 Reroutes without exhausting the stack', () => {
    const n = 20_000;
    const nodes: JsonValue[] = [{ id: 1, type: 'Empty', mode: 0, outputs: [{ name: 'LATENT', type: 'LATENT', links: [1] }], widgets_values: [8, 8] }];
    const links: JsonValue[] = [];
    for (let i = 0; i < n; i++) {
      nodes.push({ id: 10 + i, type: 'Reroute', mode: 0, inputs: [{ name: '', type: '*', link: i + 1 }], outputs: [{ name: '', type: '*', links: [i + 2] }] });
      links.push([i + 1, i === 0 ? 1 : 10 + i - 1, 0, 10 + i, 0, '*']);
    }
    nodes.push({ id: 2, type: 'Upscale', mode: 0, inputs: [{ name: 'samples', type: 'LATENT', link: n + 1 }], widgets_values: [2] });
    links.push([n + 1, 10 + n - 1, 0, 2, 0, '*']);
    expect(uiToApi({ nodes, links }, TEST_INFO)['2']!.inputs.samples).toEqual(['1', 0]);
  });
});
