import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ObjectInfoEntry } from '../../../../engine/index.js';
import { parseJson, stringifyJson } from '../../../../engine/json.js';
import { readPngTextAsync } from '../../../../engine/formats/png-text-chunks.js';
import { readPngText } from '../../../../engine/formats/png-text.js';
import { buildDefaultGraph } from '../../../../editor/src/graph/default-workflow.js';
import { importDocument } from '../../../../editor/src/graph/import.js';
import { readNodeSpecs, type NodeSpec } from '../../../../editor/src/graph/spec.js';
import { toApi } from '../../../../editor/src/graph/to-api.js';
import { toUiDocument } from '../../../../editor/src/graph/to-ui.js';
import { REPO } from '../../harness.js';
import { COMFYUI_EXAMPLES, itWith } from '../../../fixtures/shared-data.js';
import { realObjectInfo } from '../../object-info.js';

let info: Record<string, ObjectInfoEntry>;
let specs: Map<string, NodeSpec>;

beforeAll(async () => {
  info = await realObjectInfo();
  specs = readNodeSpecs(info);
});

describe('editor workflow import/export', () => {
  it('exports the default graph as the API prompt of workflows/txt2img.json shape', () => {
    const g = buildDefaultGraph(specs)!;
    const api = toApi(g, specs);
    expect(api['3']!.class_type).toBe('KSampler');
    expect(api['3']!.inputs.model).toEqual(['4', 0]);
    expect(api['8']!.inputs.vae).toEqual(['4', 2]);
    expect(api['4']!.inputs.ckpt_name).toBe('toyworld-shapes');
    expect(api['9']!.inputs.images).toEqual(['8', 0]);
  });

  it('round-trips through the versioned UI document with positions, titles and seed controls', () => {
    const g = buildDefaultGraph(specs)!;
    const seeded = { ...g, nodes: g.nodes.map((n) => (n.id === '3' ? { ...n, position: { x: 123, y: 456 }, data: { ...n.data, controls: { seed: 'increment' as const }, values: { ...n.data.values, seed: 2n ** 63n + 5n } } } : n)) };
    const doc = toUiDocument(seeded, specs, info);
    expect(doc.latentflow.version).toBeGreaterThanOrEqual(1);
    const back = importDocument(parseJson(stringifyJson(doc)), info, specs);
    expect(back.kind).toBe('ui');
    const k = back.graph.nodes.find((n) => n.id === '3')!;
    expect(k.position).toEqual({ x: 123, y: 456 });
    expect(k.data.controls.seed).toBe('increment');
    expect(k.data.values.seed).toBe(2n ** 63n + 5n);
    expect(back.graph.nodes.find((n) => n.id === '6')!.data.title).toBe('Positive prompt');
    expect(toApi(back.graph, specs)).toEqual(toApi(seeded, specs));
  });

  it('opens a ComfyUI document with a Reroute: folded, with positions and widths from the file', () => {
    const doc = toUiDocument(buildDefaultGraph(specs)!, specs, info);
    const link = doc.links.find((l) => String(l[1]) === '8' && String(l[3]) === '9')!;
    const save = doc.nodes.find((n) => String(n.id) === '9')!;
    const decode = doc.nodes.find((n) => String(n.id) === '8')!;
    decode.size = [422, 46];
    save.size = [90, 270];
    save.pos = [1500, 333];
    delete (doc.nodes.find((n) => String(n.id) === '3') as { size?: unknown }).size;
    const rerouteLink = 99;
    doc.nodes.push({
      id: 50, type: 'Reroute', pos: [1300, 140], size: [75, 26], flags: {}, order: 99, mode: 0,
      inputs: [{ name: '', type: '*', link: link[0] }], outputs: [{ name: '', type: 'IMAGE', links: [rerouteLink] }], properties: {}, widgets_values: [],
    } as unknown as (typeof doc.nodes)[number]);
    link[3] = 50;
    link[4] = 0;
    save.inputs.find((i) => i.name === 'images')!.link = rerouteLink;
    doc.links.push([rerouteLink, 50, 0, 9, 0, 'IMAGE']);
    const r = importDocument(parseJson(stringifyJson(doc)), info, specs);
    expect(r.graph.nodes.map((n) => n.data.classType)).not.toContain('Reroute');
    expect(r.graph.edges.some((e) => e.source === '8' && e.target === '9' && e.targetHandle === 'in:images')).toBe(true);
    const byId = new Map(r.graph.nodes.map((n) => [n.id, n]));
    expect(byId.get('9')!.position).toEqual({ x: 1500, y: 333 });
    expect(byId.get('8')!.width).toBe(422);
    expect(byId.get('9')!.width).toBe(160);
    expect(byId.get('3')!.width).toBeUndefined();
    // API documents carry no sizes; api-to-ui's estimates are not applied.
    expect(importDocument(parseJson(stringifyJson(toApi(buildDefaultGraph(specs)!, specs))), info, specs).graph.nodes.every((n) => n.width === undefined)).toBe(true);
  });

  it('opens workflows/txt2img.json (API format) with a layout and fixed seeds', () => {
    const doc = parseJson(readFileSync(path.join(REPO, 'workflows', 'txt2img.json'), 'utf8'));
    const r = importDocument(doc, info, specs);
    expect(r.kind).toBe('api');
    expect(r.graph.nodes.length).toBe(7);
    expect(r.graph.nodes.find((n) => n.data.classType === 'KSampler')!.data.controls.seed).toBe('fixed');
    const xs = new Set(r.graph.nodes.map((n) => n.position.x));
    expect(xs.size).toBeGreaterThan(3);
  });

  it('opens workflows/controlnet.json: Canny, ControlNetLoader and ControlNetApplyAdvanced wired, and exports it back unchanged', () => {
    const doc = parseJson(readFileSync(path.join(REPO, 'workflows', 'controlnet.json'), 'utf8'));
    const r = importDocument(doc, info, specs);
    expect(r.kind).toBe('api');
    const types = r.graph.nodes.map((n) => n.data.classType);
    for (const t of ['Canny', 'ControlNetLoader', 'ControlNetApplyAdvanced', 'KSampler']) expect(types).toContain(t);
    const apply = r.graph.nodes.find((n) => n.data.classType === 'ControlNetApplyAdvanced')!;
    const into = r.graph.edges.filter((e) => e.target === apply.id).map((e) => e.targetHandle).sort();
    expect(into).toEqual(['in:control_net', 'in:image', 'in:negative', 'in:positive']);
    const strip = (w: object) => Object.fromEntries(Object.entries(w as Record<string, { class_type: string; inputs: unknown }>).map(([id, n]) => [id, { class_type: n.class_type, inputs: n.inputs }]));
    expect(strip(toApi(r.graph, specs))).toEqual(strip(doc as object));
  });

  it('opens the SDXL workflows (CLIPTextEncodeSDXL, CLIPTextEncodeSDXLRefiner, KSamplerAdvanced) and exports them back unchanged', () => {
    for (const name of ['sdxl-txt2img', 'sdxl-refiner', 'sdxl-turbo']) {
      const doc = parseJson(readFileSync(path.join(REPO, 'workflows', `${name}.json`), 'utf8'));
      const r = importDocument(doc, info, specs);
      expect(r.kind, name).toBe('api');
      const strip = (w: object) => Object.fromEntries(Object.entries(w as Record<string, { class_type: string; inputs: unknown }>).map(([id, n]) => [id, { class_type: n.class_type, inputs: n.inputs }]));
      expect(strip(toApi(r.graph, specs)), name).toEqual(strip(doc as object));
    }
  });

  itWith(COMFYUI_EXAMPLES, 'reads the PNG text chunks with DecompressionStream as the engine does with node:zlib, and opens a ComfyUI example', async () => {
    const file = COMFYUI_EXAMPLES.file('img2img_img2img_workflow.png');
    const bytes = new Uint8Array(readFileSync(file));
    const text = await readPngTextAsync(bytes);
    expect(text).toEqual(readPngText(bytes));
    const prompt = parseJson(text.prompt!);
    const r = importDocument(parseJson(text.workflow!), info, specs);
    const types = r.graph.nodes.map((n) => n.data.classType).sort();
    expect(types).toEqual(Object.values(prompt as Record<string, { class_type: string }>).map((n) => n.class_type).sort());
    expect(r.graph.edges.length).toBeGreaterThan(5);
  });

  it('rejects documents that are not workflows, naming what it expected', () => {
    expect(() => importDocument(parseJson('{"a": 1}'), info, specs)).toThrow(/not a workflow/);
    expect(() => importDocument(parseJson('{"1": {"class_type": "NoSuchNode", "inputs": {}}}'), info, specs)).toThrow(/NoSuchNode/);
  });

  it('opens a ComfyUI document with a subgraph: inner nodes inlined as instance:inner, unfolded where the instance stood', () => {
    const sg = '11111111-2222-4333-8444-555555555555';
    const up = (id: number, link: number, pos: [number, number]) => ({
      id, type: 'LatentUpscaleBy', pos, size: [300, 80], mode: 0,
      inputs: [{ name: 'samples', type: 'LATENT', link }], outputs: [{ name: 'LATENT', type: 'LATENT', links: [] }], widgets_values: ['bilinear', 1.5],
    });
    const doc = {
      version: 0.4,
      nodes: [
        { id: 1, type: 'EmptyLatentImage', pos: [100, 100], size: [300, 100], mode: 0, inputs: [], outputs: [{ name: 'LATENT', type: 'LATENT', links: [1] }], widgets_values: [256, 256, 1] },
        { id: 5, type: sg, pos: [500, 300], size: [200, 60], mode: 0, inputs: [{ name: 'samples', type: 'LATENT', link: 1 }], outputs: [{ name: 'LATENT', type: 'LATENT', links: [2] }], properties: {}, widgets_values: [] },
        up(6, 2, [900, 100]),
      ],
      links: [[1, 1, 0, 5, 0, 'LATENT'], [2, 5, 0, 6, 0, 'LATENT']],
      definitions: {
        subgraphs: [{
          id: sg, name: 'twice', inputs: [{ id: 'i', name: 'samples', type: 'LATENT', linkIds: [10] }], outputs: [{ id: 'o', name: 'LATENT', type: 'LATENT', linkIds: [12] }],
          nodes: [up(3, 10, [40, 70]), up(4, 11, [440, 90])],
          links: [
            { id: 10, origin_id: -10, origin_slot: 0, target_id: 3, target_slot: 0, type: 'LATENT' },
            { id: 11, origin_id: 3, origin_slot: 0, target_id: 4, target_slot: 0, type: 'LATENT' },
            { id: 12, origin_id: 4, origin_slot: 0, target_id: -20, target_slot: 0, type: 'LATENT' },
          ],
        }],
      },
    };
    const { graph, warnings } = importDocument(parseJson(stringifyJson(doc)), info, specs);
    expect(warnings).toEqual([]);
    expect(graph.nodes.map((n) => n.id).sort()).toEqual(['1', '5:3', '5:4', '6']);
    expect(graph.nodes.find((n) => n.id === '5:3')!.position).toEqual({ x: 500, y: 300 });
    expect(graph.nodes.find((n) => n.id === '5:4')!.position).toEqual({ x: 900, y: 320 });
    const edges = graph.edges.map((e) => `${e.source}->${e.target}`).sort();
    expect(edges).toEqual(['1->5:3', '5:3->5:4', '5:4->6']);
  });
});
