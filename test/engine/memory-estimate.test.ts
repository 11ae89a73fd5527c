import { describe, expect, it } from 'vitest';
import { INT, NodeRegistry, Services, defineNode, socket } from '../../engine/index.js';
import { estimateMemory } from '../../engine/memory-estimate.js';

const SIZED = socket<{ v: number }>('LATENT', undefined, { bytes: (s) => 2 * s.reduce((a, b) => a * b, 1) });
const OPAQUE = socket<{ v: number }>('MODEL');

const Make = defineNode({
  type: 'MemMake',
  category: 'test',
  version: '1',
  inputs: { n: INT({ default: 10 }) },
  outputs: { LATENT: SIZED, MODEL: OPAQUE },
  infer: ({ n }) => (n !== undefined ? { LATENT: [n, 10] } : {}),
  run: () => ({ LATENT: { v: 0 }, MODEL: { v: 0 } }),
});

const Work = defineNode({
  type: 'MemWork',
  category: 'test',
  version: '1',
  inputs: { a: SIZED, b: SIZED },
  outputs: { LATENT: SIZED },
  infer: (_v, { a }) => ({ LATENT: a }),
  workBytes: (_v, _s, { LATENT }) => (LATENT ? 1000 * LATENT[0]! : 0),
  run: () => ({ LATENT: { v: 0 } }),
});

const BadRule = defineNode({
  type: 'MemBadRule',
  category: 'test',
  version: '1',
  inputs: { a: SIZED },
  outputs: { LATENT: SIZED },
  workBytes: () => {
    throw new Error('cannot tell');
  },
  run: () => ({ LATENT: { v: 0 } }),
});

const registry = new NodeRegistry([Make, Work, BadRule]);
const estimate = (wf: unknown, ids: string[]) => estimateMemory(wf, ids, registry, new Services());

describe('estimateMemory', () => {
  it('sums the sized outputs of the run and adds the largest working set, naming the heaviest node and its largest input', async () => {
    const wf = {
      '1': { class_type: 'MemMake', inputs: { n: 3 } },
      '2': { class_type: 'MemMake', inputs: { n: 50 } },
      '3': { class_type: 'MemWork', inputs: { a: ['1', 0], b: ['2', 0] } },
      '4': { class_type: 'MemWork', inputs: { a: ['2', 0], b: ['1', 0] } },
      '9': { class_type: 'MemMake', inputs: { n: 1000 } },
    };
    const est = await estimate(wf, ['1', '2', '3', '4']);
    // Outputs: 60 + 1000 + 60 + 1000 bytes; work: max(3000, 50000). Node 9 is not in the run.
    expect(est.peakBytes).toBe(60 + 1000 + 60 + 1000 + 50_000);
    expect(est.heaviest).toMatchObject({ id: '4', classType: 'MemWork', outputBytes: 1000, workBytes: 50_000, largestInput: { name: 'a', shape: [50, 10] } });
    expect(est.nodes.map((n) => n.id).sort()).toEqual(['1', '2', '3', '4']);
  });

  it('counts unknown shapes, unsized sockets and failing rules as nothing', async () => {
    const est = await estimate(
      {
        '1': { class_type: 'MemMake', inputs: { n: 'many' } },
        '2': { class_type: 'MemBadRule', inputs: { a: ['1', 0] } },
      },
      ['1', '2'],
    );
    expect(est.peakBytes).toBe(0);
  });
});
