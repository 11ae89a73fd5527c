/** The shipped CLIP workflows (workflows/*.json) run end to end on toyworld, plus an unCLIP graph. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiWorkflow } from '../../../engine/index.js';
import type { Host } from '../../../host/host.js';
import { REPO, randomShape, rng, toyHost, writePng } from './helpers.js';

let host: Host;
beforeAll(async () => {
  host = await toyHost();
});
afterAll(() => host?.close());

function workflow(name: string): ApiWorkflow {
  return JSON.parse(readFileSync(path.join(REPO, 'workflows', name), 'utf8'));
}

async function run(wf: ApiWorkflow) {
  const v = host.engine.validate(wf);
  expect(v.node_errors).toEqual({});
  const r = await host.engine.run(wf);
  expect(r.error).toBeUndefined();
  expect(r.status).toBe('success');
  return r;
}

describe('CLIP workflows', () => {
  it('classify.json: zero-shot and the generic classifier both name a blue square', async () => {
    await writePng(path.join(host.folders.input, 'shape.png'), randomShape('blue', 'square', rng(2), 200, 150));
    const r = await run(workflow('classify.json'));
    expect(r.outputs['3']?.text?.[0]).toMatch(/^blue square \(\d+\.\d%\)$/);
    expect(r.outputs['5']?.text?.[0]).toMatch(/^blue square /);
    const table = r.outputs['3']?.classification?.[0];
    expect(Array.isArray(table) && table[0]).toMatchObject({ label: 'blue square' });
  });

  it('retrieval.json: indexes input/ and finds the red circles first', async () => {
    const rand = rng(9);
    const classes: [string, 'circle' | 'square' | 'ring' | 'cross'][] = [['red', 'circle'], ['blue', 'square'], ['green', 'ring'], ['red', 'cross'], ['orange', 'circle']];
    for (let i = 0; i < 10; i++) {
      const [c, s] = classes[i % classes.length]!;
      await writePng(path.join(host.folders.input, `g${i}-${c}-${s}.png`), randomShape(c, s, rand));
    }
    const wf = workflow('retrieval.json');
    wf['3']!.inputs.top_k = 2;
    const r = await run(wf);
    const results = r.outputs['3']?.results;
    expect(Array.isArray(results) && results.map((x) => (x as { file: string }).file)).toEqual(expect.arrayContaining(['g0-red-circle.png', 'g5-red-circle.png']));
    expect(r.outputs['4']?.images).toHaveLength(2);
    expect(r.outputs['2']?.text?.[0]).toMatch(/images: \d+ embedded/);
  });

  it('generate-and-rerank.json: generates 8, keeps the best 2', async () => {
    const r = await run(workflow('generate-and-rerank.json'));
    expect(r.outputs['9']?.images).toHaveLength(2);
    const ranking = r.outputs['11']?.ranking;
    expect(ranking).toHaveLength(2);
    const [a, b] = (ranking ?? []) as { score: number }[];
    expect(a!.score).toBeGreaterThanOrEqual(b!.score);
  });

  it('unCLIPConditioning validates and runs in a sampling graph', async () => {
    await writePng(path.join(host.folders.input, 'ref.png'), randomShape('purple', 'triangle', rng(4)));
    const wf = workflow('generate-and-rerank.json');
    wf['5']!.inputs.batch_size = 1;
    wf['3']!.inputs.steps = 4;
    wf['20'] = { class_type: 'LoadImage', inputs: { image: 'ref.png' } };
    wf['21'] = { class_type: 'CLIPVisionEncode', inputs: { clip_vision: ['10', 0], image: ['20', 0], crop: 'center' } };
    wf['22'] = { class_type: 'unCLIPConditioning', inputs: { conditioning: ['6', 0], clip_vision_output: ['21', 0], strength: 1.0, noise_augmentation: 0.1 } };
    wf['3']!.inputs.positive = ['22', 0];
    wf['11']!.inputs.keep = 1;
    const r = await run(wf);
    expect(r.executed).toEqual(expect.arrayContaining(['21', '22', '3']));
    expect(r.outputs['9']?.images).toHaveLength(1);
  });
});
