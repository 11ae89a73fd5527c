import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { defineNode, INT, STRING } from '../../../engine/index.js';
import { createHost, type Host } from '../../../host/host.js';
import { planBatch } from '../../../cli/batch/plan.js';
import { BatchPlanError } from '../../../cli/batch/errors.js';
import { makeBase, scaleWorkflow } from './helpers.js';

/** An output node with two seed inputs, to test `seed` (all seeds) and the manifest's seed field. */
const SeedStub = defineNode({
  type: 'SeedStub',
  category: 'test',
  version: '1.0.0',
  inputs: { seed: INT({ default: 0, min: 0, max: 2n ** 64n - 1n }), noise_seed: INT({ default: 0, min: 0, max: 2n ** 64n - 1n }), text: STRING() },
  outputs: {},
  outputNode: true,
  run: (_ctx, { seed, text }) => ({ ui: { text: [`${seed}:${text}`] } }),
});

let host: Host;
beforeAll(async () => {
  host = await createHost({ baseDir: await makeBase(), extraNodes: [SeedStub] });
});
afterAll(() => host.close());

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof BatchPlanError) return [...e.problems];
    throw e;
  }
  throw new Error('expected a BatchPlanError');
}

describe('planBatch', () => {
  it('applies overrides by node id and by title, converting text cells to the input types', () => {
    const plan = planBatch(scaleWorkflow(), [{ label: 'r1', overrides: [['Scale.width', '40'], ['2.height', '30']] }], host.engine);
    expect(plan.jobs).toHaveLength(1);
    expect(plan.jobs[0]!.workflow['2']!.inputs).toMatchObject({ width: 40, height: 30 });
    expect(plan.jobs[0]!.overrides).toEqual({ 'Scale.width': '40', '2.height': '30' });
    expect(plan.jobs[0]!.id).toMatch(/^[0-9a-f]{16}$/);
  });

  it('gives equal workflows one id (text "64" and number 64 alike) and runs duplicates once', () => {
    const plan = planBatch(
      scaleWorkflow(),
      [
        { label: 'a', overrides: [['Scale.width', '64']] },
        { label: 'b', overrides: [['2.width', 64]] },
        { label: 'c', overrides: [['2.width', 65]] },
      ],
      host.engine,
    );
    expect(plan.jobs.map((j) => j.label)).toEqual(['a', 'c']);
    expect(plan.duplicates).toEqual(['b resolves to the same workflow as a; it runs once']);
    expect(plan.jobs[0]!.id).not.toBe(plan.jobs[1]!.id);
    // Deterministic: the same inputs plan to the same ids in any process.
    expect(planBatch(scaleWorkflow(), [{ label: 'x', overrides: [['2.width', 64]] }], host.engine).jobs[0]!.id).toBe(plan.jobs[0]!.id);
  });

  it('validates every row and names each bad one, running none', () => {
    const problems = problemsOf(() =>
      planBatch(
        scaleWorkflow(),
        [
          { label: 'rows.csv row 1 (line 2)', overrides: [['2.width', 8]] },
          { label: 'rows.csv row 2 (line 3)', overrides: [['2.width', -1]] },
          { label: 'rows.csv row 3 (line 4)', overrides: [['Nope.width', 8]] },
          { label: 'rows.csv row 4 (line 5)', overrides: [['2.widht', 8]] },
          { label: 'rows.csv row 5 (line 6)', overrides: [['2.upscale_method', 'cubic-ish']] },
        ],
        host.engine,
      ),
    );
    expect(problems).toHaveLength(4);
    expect(problems[0]).toMatch(/^rows\.csv row 2 \(line 3\): node 2 \(ImageScale\) input 'width': Value -1 smaller than min of 0/);
    expect(problems[1]).toBe("rows.csv row 3 (line 4): 'Nope.width': no node with id or title 'Nope'");
    expect(problems[2]).toBe("rows.csv row 4 (line 5): '2.widht': node 2 (ImageScale) has no input 'widht'");
    expect(problems[3]).toMatch(/^rows\.csv row 5 \(line 6\): node 2 \(ImageScale\) input 'upscale_method'/);
  });

  it('`seed` sets every seed and noise_seed; the job records its seed exactly', () => {
    const wf = {
      '1': { class_type: 'SeedStub', inputs: { seed: 1, noise_seed: 2, text: 'a' } },
      '2': { class_type: 'SeedStub', inputs: { seed: 3, noise_seed: 4, text: 'b' } },
    };
    const plan = planBatch(wf, [{ label: 's', overrides: [['seed', '18446744073709551615']] }, { label: 't', overrides: [['1.seed', 5]] }], host.engine);
    const [s, t] = plan.jobs;
    expect(s!.seed).toBe(18446744073709551615n);
    for (const id of ['1', '2']) expect(s!.workflow[id]!.inputs).toMatchObject({ seed: 18446744073709551615n, noise_seed: 18446744073709551615n });
    expect(t!.seed).toEqual({ '1': 5n, '1.noise_seed': 2, '2': 3, '2.noise_seed': 4 });
    expect(problemsOf(() => planBatch(scaleWorkflow(), [{ label: 'r', overrides: [['seed', 1]] }], host.engine))).toEqual(["r: 'seed': no node has a constant input 'seed'"]);
  });
});
