import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHost, type Host } from '../../../host/host.js';
import { Tensor } from '../../../runtime/tensor.js';
import { ConditioningAverage, ConditioningConcat } from '../../../nodes/diffusion/conditioning-ops.js';
import type { CondEntry } from '../../../sockets/index.js';
import { tempDir } from '../../fixtures/temp-dir.js';
import { nodeContext, runOutput } from '../../fixtures/run-node.js';

const logs: string[] = [];
const ctx = nodeContext({ log: (m) => logs.push(m) });

const runOut: typeof runOutput = (def, inputs, name) => runOutput(def, inputs, name, ctx);

const t = (values: number[], shape: number[]) => new Tensor('float32', Float32Array.from(values), shape);
const values = (x: Tensor | undefined) => (x ? Array.from(x.data) : undefined);

const to: CondEntry = { embeds: t([1, 2, 3, 4], [1, 2, 2]), pooled: t([1, 1], [1, 2]), area: { h: 8, w: 8, y: 0, x: 0 }, strength: 0.7 };
const bare: CondEntry = { embeds: t([5, 6, 7, 8], [1, 2, 2]), strength: 1 };

describe('ConditioningConcat', () => {
  it("appends the first 'from' entry's tokens to every 'to' entry and keeps the rest of 'to'", async () => {
    logs.length = 0;
    const from: CondEntry[] = [{ embeds: t([9, 8], [1, 1, 2]), pooled: t([0, 0], [1, 2]), strength: 1 }, { embeds: t([0, 0], [1, 1, 2]), strength: 1 }];
    const out = (await runOut(ConditioningConcat, { conditioning_to: [to, bare], conditioning_from: from }, 'CONDITIONING'));
    expect(out).toHaveLength(2);
    expect(out[0]!.embeds.shape).toEqual([1, 3, 2]);
    expect(values(out[0]!.embeds)).toEqual([1, 2, 3, 4, 9, 8]);
    expect(values(out[1]!.embeds)).toEqual([5, 6, 7, 8, 9, 8]);
    expect(out[0]!.pooled).toBe(to.pooled);
    expect(out[0]).toMatchObject({ area: to.area, strength: 0.7 });
    expect(out[1]!.pooled).toBeUndefined();
    expect(logs.join()).toMatch(/only the first/);
  });

  it('refuses an empty conditioning_from and a token width mismatch', () => {
    expect(() => ConditioningConcat.run(ctx, { conditioning_to: [to], conditioning_from: [] })).toThrow(/conditioning_from/);
    expect(() => ConditioningConcat.run(ctx, { conditioning_to: [to], conditioning_from: [{ embeds: t([1, 2, 3], [1, 1, 3]), strength: 1 }] })).toThrow(/width/);
  });
});

describe('ConditioningAverage', () => {
  it("cuts a longer 'from' to the 'to' length and mixes to * w + from * (1 - w), pooled outputs too", async () => {
    const from: CondEntry = { embeds: t([10, 20, 30, 40, 50, 60], [1, 3, 2]), pooled: t([2, 3], [1, 2]), strength: 1 };
    const [out] = (await runOut(ConditioningAverage, { conditioning_to: [to], conditioning_from: [from], conditioning_to_strength: 0.25 }, 'CONDITIONING'));
    expect(out!.embeds.shape).toEqual([1, 2, 2]);
    expect(values(out!.embeds)).toEqual([7.75, 15.5, 23.25, 31]);
    expect(values(out!.pooled)).toEqual([1.75, 2.5]);
    expect(out).toMatchObject({ area: to.area, strength: 0.7 });
  });

  it("pads a shorter 'from' with zero tokens", async () => {
    const from: CondEntry = { embeds: t([10, 20], [1, 1, 2]), strength: 1 };
    const [out] = (await runOut(ConditioningAverage, { conditioning_to: [to], conditioning_from: [from], conditioning_to_strength: 0.25 }, 'CONDITIONING'));
    expect(values(out!.embeds)).toEqual([7.75, 15.5, 0.75, 1]);
    // No pooled output on 'from': 'to' keeps its own.
    expect(out!.pooled).toBe(to.pooled);
  });

  it("gives a 'to' entry without pooled output the one of 'from'; strength 1 keeps 'to', 0 takes 'from'", async () => {
    const from: CondEntry = { embeds: t([1, 1, 1, 1], [1, 2, 2]), pooled: t([4, 6], [1, 2]), strength: 1 };
    const [mixed] = (await runOut(ConditioningAverage, { conditioning_to: [bare], conditioning_from: [from], conditioning_to_strength: 0.5 }, 'CONDITIONING'));
    expect(values(mixed!.pooled)).toEqual([4, 6]);
    expect(values(mixed!.embeds)).toEqual([3, 3.5, 4, 4.5]);
    const [keep] = (await runOut(ConditioningAverage, { conditioning_to: [to], conditioning_from: [from], conditioning_to_strength: 1 }, 'CONDITIONING'));
    expect(values(keep!.embeds)).toEqual(values(to.embeds));
    expect(values(keep!.pooled)).toEqual([1, 1]);
    const [take] = (await runOut(ConditioningAverage, { conditioning_to: [to], conditioning_from: [from], conditioning_to_strength: 0 }, 'CONDITIONING'));
    expect(values(take!.embeds)).toEqual([1, 1, 1, 1]);
    expect(values(take!.pooled)).toEqual([4, 6]);
  });
});

describe('through the engine', () => {
  let host: Host;
  beforeAll(async () => {
    host = await createHost({ baseDir: tempDir('lf-cond-ops-') });
  });
  afterAll(() => host?.close());

  it("publishes ComfyUI's inputs (ConditioningAverage has no display name there: its mapping key ends in a space)", () => {
    const info = host.engine.objectInfo();
    expect(info.ConditioningConcat).toMatchObject({ display_name: 'Conditioning (Concat)', category: 'conditioning', output: ['CONDITIONING'] });
    expect(info.ConditioningConcat!.input_order.required).toEqual(['conditioning_to', 'conditioning_from']);
    expect(info.ConditioningAverage).toMatchObject({ display_name: 'ConditioningAverage', category: 'conditioning', output: ['CONDITIONING'] });
    expect(info.ConditioningAverage!.input_order.required).toEqual(['conditioning_to', 'conditioning_from', 'conditioning_to_strength']);
    expect(info.ConditioningAverage!.input.required.conditioning_to_strength![1]).toMatchObject({ default: 1, min: 0, max: 1, step: 0.01 });
  });
});
