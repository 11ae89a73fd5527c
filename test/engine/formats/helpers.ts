import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseJson, readPngText, type ApiWorkflow, type JsonValue, type ObjectInfoEntry, type ObjectInfoInput } from '../../../engine/index.js';
import { COMFYUI_EXAMPLES } from '../../fixtures/shared-data.js';

/** ComfyUI's example PNGs, in ../shared/data (absent on a bare clone: tests using them go through `describeWith`/`itWith`). */
export const EXAMPLES_DIR = COMFYUI_EXAMPLES.dir;

/** The four example PNGs whose `workflow` chunk must convert to their `prompt` chunk. */
export const EXAMPLES = [
  '2_pass_txt2img_hiresfix_latent_workflow.png',
  'img2img_img2img_workflow.png',
  'inpaint_inpaint_example.png',
  'sdturbo_sdxlturbo_example.png',
] as const;

export interface Example {
  readonly file: string;
  readonly bytes: Uint8Array;
  readonly prompt: ApiWorkflow;
  readonly workflow: JsonValue;
}

function isApi(v: JsonValue): v is ApiWorkflow & JsonValue {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((n) => n !== null && typeof n === 'object' && !Array.isArray(n) && typeof (n as Record<string, unknown>).class_type === 'string');
}

export function loadExample(file: string): Example {
  const bytes = readFileSync(path.join(EXAMPLES_DIR, file));
  const text = readPngText(bytes);
  const prompt = parseJson(text.prompt!);
  if (!isApi(prompt)) throw new Error(`${file}: prompt chunk is not API format`);
  return { file, bytes, prompt, workflow: parseJson(text.workflow!) };
}

/** The frontend's upload button value, which old ComfyUI frontends also sent in the prompt. */
export const UPLOAD_WIDGET = 'choose file to upload';

/**
 * A stand-in object_info built from a `prompt` chunk, for developing before the real nodes land:
 * widget inputs in the order the old frontend sent them (its widget order), links as sockets.
 */
export function objectInfoFromPrompt(prompt: ApiWorkflow): Record<string, ObjectInfoEntry> {
  const info: Record<string, ObjectInfoEntry> = {};
  for (const node of Object.values(prompt)) {
    const required: Record<string, ObjectInfoInput> = {};
    let last: string | undefined;
    for (const [name, v] of Object.entries(node.inputs)) {
      if (name === UPLOAD_WIDGET) {
        if (last) required[last] = [[String(node.inputs[last])], { image_upload: true }];
        continue;
      }
      if (Array.isArray(v)) required[name] = ['*', {}];
      else if (typeof v === 'boolean') required[name] = ['BOOLEAN', {}];
      else if (typeof v === 'number' || typeof v === 'bigint') required[name] = [Number.isInteger(v) || typeof v === 'bigint' ? 'INT' : 'FLOAT', {}];
      else required[name] = ['STRING', {}];
      last = name;
    }
    info[node.class_type] = {
      input: { required },
      input_order: { required: Object.keys(required) },
      output: [],
      output_is_list: [],
      output_name: [],
      name: node.class_type,
      display_name: node.class_type,
      description: '',
      python_module: 'test',
      category: 'test',
      output_node: false,
    };
  }
  return info;
}

/** A synthetic object_info entry for converter tests (test node types, not latentflow nodes). */
export function entry(
  name: string,
  required: Record<string, ObjectInfoInput>,
  output: string[] = [],
  optional?: Record<string, ObjectInfoInput>,
): ObjectInfoEntry {
  return {
    input: { required, ...(optional ? { optional } : {}) },
    input_order: { required: Object.keys(required), ...(optional ? { optional: Object.keys(optional) } : {}) },
    output,
    output_is_list: output.map(() => false),
    output_name: output,
    name,
    display_name: `${name} (display)`,
    description: '',
    python_module: 'test',
    category: 'test',
    output_node: output.length === 0,
  };
}

/** A small set of test node types covering seeds, uploads, combos, optional and forced inputs. */
export const TEST_INFO: Record<string, ObjectInfoEntry> = {
  Loader: entry('Loader', { ckpt_name: [['a.safetensors', 'b.safetensors'], {}] }, ['MODEL', 'CLIP', 'VAE']),
  Sampler: entry(
    'Sampler',
    {
      model: ['MODEL', {}],
      seed: ['INT', { default: 0, min: 0, max: 2n ** 64n - 1n, control_after_generate: true }],
      steps: ['INT', { default: 20 }],
      sampler_name: [['euler', 'heun'], {}],
      latent: ['LATENT', {}],
    },
    ['LATENT'],
    { denoise: ['FLOAT', { default: 1 }], extra_seed: ['INT', { forceInput: true }] },
  ),
  Empty: entry('Empty', { width: ['INT', { default: 512 }], height: ['INT', { default: 512 }] }, ['LATENT']),
  Upscale: entry('Upscale', { samples: ['LATENT', {}], scale: ['FLOAT', { default: 2 }] }, ['LATENT']),
  Image: entry('Image', { image: [['x.png', 'y.png'], { image_upload: true }], note: ['STRING', { default: '' }] }, ['IMAGE', 'MASK']),
  Save: entry('Save', { images: ['IMAGE', {}], prefix: ['STRING', { default: 'lf' }] }),
  Decode: entry('Decode', { samples: ['LATENT', {}], vae: ['VAE', {}] }, ['IMAGE']),
  Legacy: entry('Legacy', { noise_seed: ['INT', { default: 0 }], tags: ['STRING', {}] }, ['INT']),
};

export type Obj = { [k: string]: JsonValue };
type Link = [number, number, number, number, number, string];

let uuidCounter = 0;
const uuid = () => `00000000-0000-4000-8000-${String(++uuidCounter).padStart(12, '0')}`;

/**
 * Does what the ComfyUI frontend's "Convert to Subgraph" does to a 0.4 document: the nodes `ids`
 * move into a new definition (links inside become object links, links across the boundary go through
 * the -10 input node and -20 output node), and one instance node `instanceId` takes their place.
 */
export function pack(doc: Obj, ids: number[], instanceId: number): Obj {
  const inside = new Set(ids);
  const nodes = doc.nodes as Obj[];
  const links = (doc.links as Link[]).filter((l) => l !== null);
  const defId = uuid();
  const inputs: Obj[] = [];
  const outputs: Obj[] = [];
  const inner: Obj[] = [];
  const outer: Link[] = [];
  const instanceIn: Obj[] = [];
  const instanceOut: Obj[] = [];
  let nextLink = Math.max(0, ...links.map((l) => l[0])) + 1000;
  const sourceKey = (l: Link) => `${l[1]}/${l[2]}`;
  const inputFor = new Map<string, number>();
  const outputFor = new Map<string, number>();
  for (const l of links) {
    const [id, from, fromSlot, to, toSlot, type] = l;
    const obj = (originId: number, originSlot: number, targetId: number, targetSlot: number) => ({ id, origin_id: originId, origin_slot: originSlot, target_id: targetId, target_slot: targetSlot, type });
    if (inside.has(from) && inside.has(to)) inner.push(obj(from, fromSlot, to, toSlot));
    else if (!inside.has(from) && inside.has(to)) {
      let k = inputFor.get(sourceKey(l));
      if (k === undefined) {
        k = inputs.length;
        inputFor.set(sourceKey(l), k);
        inputs.push({ id: uuid(), name: `in_${k}`, type, linkIds: [] });
        const outerId = nextLink++;
        outer.push([outerId, from, fromSlot, instanceId, k, type]);
        instanceIn.push({ name: `in_${k}`, type, link: outerId });
      }
      (inputs[k]!.linkIds as number[]).push(id);
      inner.push(obj(-10, k, to, toSlot));
    } else if (inside.has(from) && !inside.has(to)) {
      let j = outputFor.get(sourceKey(l));
      if (j === undefined) {
        j = outputs.length;
        outputFor.set(sourceKey(l), j);
        const innerId = nextLink++;
        outputs.push({ id: uuid(), name: `out_${j}`, type, linkIds: [innerId] });
        inner.push({ id: innerId, origin_id: from, origin_slot: fromSlot, target_id: -20, target_slot: j, type });
        instanceOut.push({ name: `out_${j}`, type, links: [] });
      }
      outer.push([id, instanceId, j, to, toSlot, type]);
      (instanceOut[j]!.links as number[]).push(id);
    } else outer.push(l);
  }
  const definition: Obj = {
    id: defId,
    version: 1,
    state: { lastGroupId: 0, lastNodeId: 0, lastLinkId: 0, lastRerouteId: 0 },
    revision: 0,
    config: {},
    name: `packed ${ids.join(',')}`,
    inputNode: { id: -10, bounding: [0, 0, 120, 60] },
    outputNode: { id: -20, bounding: [900, 0, 120, 60] },
    inputs,
    outputs,
    widgets: [],
    nodes: nodes.filter((n) => inside.has(n.id as number)),
    groups: [],
    links: inner,
    extra: {},
  };
  const instance: Obj = { id: instanceId, type: defId, pos: [0, 0], size: [200, 100], flags: {}, order: 0, mode: 0, inputs: instanceIn, outputs: instanceOut, properties: { proxyWidgets: [] }, widgets_values: [] };
  const defs = ((doc.definitions as Obj | undefined)?.subgraphs as Obj[] | undefined) ?? [];
  return { ...doc, nodes: [...nodes.filter((n) => !inside.has(n.id as number)), instance], links: outer, definitions: { subgraphs: [...defs, definition] } };
}
