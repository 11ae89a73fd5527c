import { describe, it, expect } from 'vitest';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { ApiWorkflow } from '../../../engine/index.js';
import { createHost } from '../../../host/host.js';
import { planBatch } from '../../../cli/batch/plan.js';
import { Manifest } from '../../../cli/batch/manifest.js';
import { runBatch, type BatchEvent } from '../../../cli/batch/runner.js';
import { makeBase, scaleWorkflow } from './helpers.js';

async function setup(outName: string) {
  const base = await makeBase();
  const host = await createHost({ baseDir: base, outputDir: path.join(base, outName) });
  return { base, host, manifest: await Manifest.open(host.folders.output) };
}

const widths = (n: number) => Array.from({ length: n }, (_, i) => ({ label: `w${8 + i}`, overrides: [['2.width', 8 + i] as const] }));

describe('runBatch', () => {
  it('runs jobs concurrently on one engine with the same bytes as one at a time', async () => {
    const shas: string[][] = [];
    for (const jobs of [1, 3]) {
      const { host, manifest } = await setup(`out${jobs}`);
      const plan = planBatch(scaleWorkflow(), widths(6), host.engine);
      const events: BatchEvent[] = [];
      const summary = await runBatch({ host, dirs: host.folders, manifest, jobs: plan.jobs, concurrency: jobs, signal: new AbortController().signal, onEvent: (e) => events.push(e) });
      expect(summary).toMatchObject({ total: 6, done: 6, skipped: 0, failed: [], interrupted: 0, pending: 0 });
      // LoadImage ran once for the whole batch: later jobs took it from the shared cache.
      const loads = events.filter((e) => e.type === 'engine' && e.event.type === 'executing' && e.event.data.node === '1');
      expect(loads.length).toBeLessThanOrEqual(jobs);
      const reopened = await Manifest.open(host.folders.output);
      shas.push(plan.jobs.map((j) => reopened.get(j.id)!.outputs[0]!.sha256));
      expect((await readdir(path.join(host.folders.output, 'scaled'))).length).toBe(6);
      await host.close();
    }
    expect(shas[1]).toEqual(shas[0]);
  });

  it('re-saves when a save node would come from the cache of another job', async () => {
    const { host, manifest } = await setup('out');
    const wf: ApiWorkflow = {
      ...scaleWorkflow(),
      '4': { class_type: 'ImageInvert', inputs: { image: ['1', 0] } },
      '5': { class_type: 'SaveImage', inputs: { images: ['4', 0], filename_prefix: 'inv' } },
    };
    const plan = planBatch(wf, widths(2), host.engine);
    await runBatch({ host, dirs: host.folders, manifest, jobs: plan.jobs, concurrency: 1, signal: new AbortController().signal });
    for (const j of plan.jobs) {
      const outs = manifest.get(j.id)!.outputs;
      expect(outs.map((o) => o.node).sort()).toEqual(['3', '5']);
      for (const o of outs) expect(o.file).toContain(j.id);
      expect(await manifest.isComplete(j.id)).toBe(true);
    }
    await host.close();
  });

  it('starts nothing once aborted and records the jobs as pending', async () => {
    const { host, manifest } = await setup('out');
    const plan = planBatch(scaleWorkflow(), widths(3), host.engine);
    const ac = new AbortController();
    ac.abort();
    const summary = await runBatch({ host, dirs: host.folders, manifest, jobs: plan.jobs, concurrency: 2, signal: ac.signal });
    expect(summary).toMatchObject({ done: 0, pending: 3 });
    expect((await Manifest.open(host.folders.output)).all().map((r) => r.status)).toEqual(['pending', 'pending', 'pending']);
    await host.close();
  });
});
