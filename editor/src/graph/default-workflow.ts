import type { JsonValue } from '../../../engine/json.js';
import { createEdge, createNode } from './build.js';
import type { NodeSpec } from './spec.js';
import type { Graph, LfEdge, LfNode } from './types.js';

/** The toyworld checkpoint the first-open workflow loads (spec/toyworld.md). */
export const DEFAULT_CHECKPOINT = 'toyworld-shapes';

interface Step {
  readonly id: string;
  readonly type: string;
  readonly x: number;
  readonly y: number;
  readonly values?: Record<string, JsonValue>;
  readonly title?: string;
}

const STEPS: readonly Step[] = [
  { id: '4', type: 'CheckpointLoaderSimple', x: 0, y: 180 },
  { id: '6', type: 'CLIPTextEncode', x: 380, y: 0, values: { text: 'a red circle on a blue background' }, title: 'Positive prompt' },
  { id: '7', type: 'CLIPTextEncode', x: 380, y: 260, values: { text: '' }, title: 'Negative prompt' },
  { id: '5', type: 'EmptyLatentImage', x: 380, y: 480 },
  { id: '3', type: 'KSampler', x: 760, y: 120 },
  { id: '8', type: 'VAEDecode', x: 1120, y: 120 },
  { id: '9', type: 'SaveImage', x: 1380, y: 120 },
];

const LINKS: readonly [string, number, string, string][] = [
  ['4', 0, '3', 'model'],
  ['4', 1, '6', 'clip'],
  ['4', 1, '7', 'clip'],
  ['6', 0, '3', 'positive'],
  ['7', 0, '3', 'negative'],
  ['5', 0, '3', 'latent_image'],
  ['3', 0, '8', 'samples'],
  ['4', 2, '8', 'vae'],
  ['8', 0, '9', 'images'],
];

/**
 * The toyworld text-to-image graph built from `/object_info` (used when `workflows/txt2img.json`
 * is not bundled). Undefined when a node type is not registered on this server.
 */
export function buildDefaultGraph(specs: ReadonlyMap<string, NodeSpec>): Graph | undefined {
  if (STEPS.some((s) => !specs.has(s.type))) return undefined;
  const nodes: LfNode[] = STEPS.map((s) => {
    const node = createNode(specs.get(s.type)!, s.id, { x: s.x, y: s.y });
    Object.assign(node.data.values, s.values ?? {});
    if (s.title) node.data.title = s.title;
    return node;
  });
  const ckpt = specs.get('CheckpointLoaderSimple')!.inputs.find((i) => i.name === 'ckpt_name');
  const choice = ckpt?.choices.find((c) => typeof c === 'string' && c.includes(DEFAULT_CHECKPOINT));
  if (choice !== undefined) nodes[0]!.data.values.ckpt_name = choice;
  const edges: LfEdge[] = LINKS.map(([s, slot, t, input]) => {
    const type = specs.get(STEPS.find((x) => x.id === s)!.type)!.outputs[slot]?.type ?? '*';
    return createEdge(s, slot, t, input, type);
  });
  return { nodes, edges };
}
