import { describe, expect, it } from 'vitest';
import { COMBO, INT, NodeRegistry, Services, defineNode, inferShapes, socket } from '../../engine/index.js';

const LAT = socket<{ v: number }>('LATENT');

const Empty = defineNode({
  type: 'ShapeEmpty',
  category: 'test',
  version: '1',
  inputs: { width: INT({ default: 512 }), height: INT({ default: 512 }), batch: INT({ default: 1 }) },
  outputs: { LATENT: LAT },
  infer: ({ width, height, batch }) => (width && height ? { LATENT: [batch ?? 1, 4, height / 8, width / 8] } : {}),
  run: () => ({ LATENT: { v: 0 } }),
});

const Double = defineNode({
  type: 'ShapeDouble',
  category: 'test',
  version: '1',
  inputs: { samples: LAT, how: COMBO(['a', 'b']) },
  outputs: { LATENT: LAT, SAME: LAT },
  infer: (_v, { samples }) => (samples ? { LATENT: [samples[0]!, samples[1]!, samples[2]! * 2, samples[3]! * 2], SAME: samples } : {}),
  run: () => ({ LATENT: { v: 0 }, SAME: { v: 0 } }),
});

const Opaque = defineNode({ type: 'ShapeOpaque', category: 'test', version: '1', inputs: { samples: LAT }, outputs: { LATENT: LAT }, run: () => ({ LATENT: { v: 0 } }) });

const Throws = defineNode({
  type: 'ShapeThrows',
  category: 'test',
  version: '1',
  inputs: { samples: LAT },
  outputs: { LATENT: LAT },
  infer: () => {
    throw new Error('cannot tell');
  },
  run: () => ({ LATENT: { v: 0 } }),
});

const registry = new NodeRegistry([Empty, Double, Opaque, Throws]);
const infer = (wf: unknown) => inferShapes(wf, registry, new Services());

describe('inferShapes', () => {
  it('carries shapes down the graph, whatever the order of the nodes', async () => {
    const shapes = await infer({
      '3': { class_type: 'ShapeDouble', inputs: { samples: ['2', 0], how: 'a' } },
      '2': { class_type: 'ShapeDouble', inputs: { samples: ['1', 0], how: 'b' } },
      '1': { class_type: 'ShapeEmpty', inputs: { width: 512, height: 256, batch: 2 } },
    });
    expect(shapes).toEqual({ '1': [[2, 4, 32, 64]], '2': [[2, 4, 64, 128], [2, 4, 32, 64]], '3': [[2, 4, 128, 256], [2, 4, 64, 128]] });
  });

  it('takes bigint constants, ignores constants of the wrong kind, and leaves unknowns null downstream', async () => {
    const shapes = await infer({
      '1': { class_type: 'ShapeEmpty', inputs: { width: 64n, height: 'tall' } },
      '2': { class_type: 'ShapeDouble', inputs: { samples: ['1', 0] } },
      '4': { class_type: 'ShapeEmpty', inputs: { width: 64n, height: 64, batch: 1 } },
      '5': { class_type: 'ShapeOpaque', inputs: { samples: ['4', 0] } },
      '6': { class_type: 'ShapeThrows', inputs: { samples: ['4', 0] } },
      '7': { class_type: 'ShapeDouble', inputs: { samples: ['5', 0] } },
    });
    expect(shapes['1']).toEqual([null]);
    expect(shapes['2']).toEqual([null, null]);
    expect(shapes['4']).toEqual([[1, 4, 8, 8]]);
    expect(shapes['5']).toEqual([null]);
    expect(shapes['6']).toEqual([null]);
    expect(shapes['7']).toEqual([null, null]);
  });

  it('skips unknown types, dangling links, cycles and non-workflows without throwing', async () => {
    const shapes = await infer({
      '1': { class_type: 'Nope', inputs: {} },
      '2': { class_type: 'ShapeDouble', inputs: { samples: ['1', 0] } },
      '3': { class_type: 'ShapeDouble', inputs: { samples: ['4', 0] } },
      '4': { class_type: 'ShapeDouble', inputs: { samples: ['3', 0] } },
      '5': 'not a node',
    });
    expect(shapes).toEqual({ '2': [null, null] });
    expect(await infer(null)).toEqual({});
    expect(await infer([1, 2])).toEqual({});
  });
});
