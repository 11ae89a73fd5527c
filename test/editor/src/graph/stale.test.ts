import { describe, expect, it } from 'vitest';
import { staleNodes, type LastRun } from '../../../../editor/src/graph/stale.js';
import type { ApiWorkflow } from '../../../../engine/workflow.js';

function txt2img(): ApiWorkflow {
  return {
    '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'toyworld-shapes.safetensors' } },
    '6': { class_type: 'CLIPTextEncode', inputs: { clip: ['4', 1], text: 'a red circle' } },
    '7': { class_type: 'CLIPTextEncode', inputs: { clip: ['4', 1], text: '' } },
    '5': { class_type: 'EmptyLatentImage', inputs: { width: 64, height: 64, batch_size: 1 } },
    '3': {
      class_type: 'KSampler',
      inputs: { model: ['4', 0], positive: ['6', 0], negative: ['7', 0], latent_image: ['5', 0], seed: 18446744073709551615n, steps: 8, cfg: 7, sampler_name: 'euler', scheduler: 'normal', denoise: 1 },
    },
    '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
    '9': { class_type: 'SaveImage', inputs: { images: ['8', 0], filename_prefix: 'lf' } },
  };
}

function ranAll(prompt: ApiWorkflow): LastRun {
  return { prompt, ran: new Set(Object.keys(prompt)) };
}

const sorted = (s: Set<string>): string[] => [...s].sort();

describe('staleNodes', () => {
  it('marks nothing when nothing changed, and nothing before any run', () => {
    expect(sorted(staleNodes(txt2img(), ranAll(txt2img())))).toEqual([]);
    expect(sorted(staleNodes(txt2img(), undefined))).toEqual([]);
  });

  it('a seed change marks the sampler and what it feeds only', () => {
    const now = txt2img();
    now['3']!.inputs.seed = 18446744073709551614n;
    expect(sorted(staleNodes(now, ranAll(txt2img())))).toEqual(['3', '8', '9']);
  });

  it('a prompt text edit marks that encoder, the sampler, the decoder and the save node', () => {
    const now = txt2img();
    now['6']!.inputs.text = 'a blue square';
    expect(sorted(staleNodes(now, ranAll(txt2img())))).toEqual(['3', '6', '8', '9']);
  });

  it('compares by content: renumbered nodes and swapped titles are not stale', () => {
    const ids: Record<string, string> = { '4': '10', '6': '11', '7': '12', '5': '13', '3': '14', '8': '15', '9': '16' };
    const renumbered: ApiWorkflow = {};
    for (const [id, node] of Object.entries(txt2img())) {
      const inputs = Object.fromEntries(Object.entries(node.inputs).map(([k, v]) => [k, Array.isArray(v) && typeof v[0] === 'string' ? [ids[v[0]]!, v[1]!] : v]));
      renumbered[ids[id]!] = { class_type: node.class_type, inputs, _meta: { title: `node ${id}` } };
    }
    expect(sorted(staleNodes(renumbered, ranAll(txt2img())))).toEqual([]);
  });

  it('a re-linked slot, a changed class, a new node and a node that did not run are stale', () => {
    const swapped = txt2img();
    swapped['3']!.inputs.positive = ['7', 0];
    swapped['3']!.inputs.negative = ['6', 0];
    expect(sorted(staleNodes(swapped, ranAll(txt2img())))).toEqual(['3', '8', '9']);

    const added = txt2img();
    added['20'] = { class_type: 'PreviewImage', inputs: { images: ['8', 0] } };
    expect(sorted(staleNodes(added, ranAll(txt2img())))).toEqual(['20']);

    const partial: LastRun = { prompt: txt2img(), ran: new Set(['4', '6', '7', '5']) };
    expect(sorted(staleNodes(txt2img(), partial))).toEqual(['3', '8', '9']);

    const retyped = txt2img();
    retyped['8']!.class_type = 'VAEDecodeTiled';
    expect(sorted(staleNodes(retyped, ranAll(txt2img())))).toEqual(['8', '9']);
  });

  it('types constants as the server does: 1 and "1" differ, literal lists compare by value', () => {
    const last = txt2img();
    last['5']!.inputs.extra = { __value__: [1, 2] };
    const same = txt2img();
    same['5']!.inputs.extra = { __value__: [1, 2] };
    expect(sorted(staleNodes(same, ranAll(last)))).toEqual([]);
    const str = txt2img();
    str['5']!.inputs.extra = { __value__: [1, '2'] };
    expect(sorted(staleNodes(str, ranAll(last)))).toEqual(['3', '5', '8', '9']);
  });

  it('a link to a missing node or a cycle makes the nodes on it stale without looping', () => {
    const dangling = txt2img();
    dangling['8']!.inputs.vae = ['99', 2];
    expect(sorted(staleNodes(dangling, ranAll(txt2img())))).toEqual(['8', '9']);
    const cyclic = txt2img();
    cyclic['6']!.inputs.clip = ['8', 0];
    expect(sorted(staleNodes(cyclic, ranAll(txt2img())))).toEqual(['3', '6', '8', '9']);
  });
});
