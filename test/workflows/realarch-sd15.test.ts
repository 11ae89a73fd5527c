/**
 * realarch tiny-sd15 (diffusers' SD-1.5 classes, random weights, optimum >= 1.24 layout: scalar float
 * timestep, `latent_parameters`, config.json per component) against ComfyUI's references.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import type { Host } from '../../host/host.js';
import { REALARCH, describeWith, itWith } from '../fixtures/shared-data.js';
import { realarchHost, runRealarchCase } from '../fixtures/realarch-cases.js';

describeWith(REALARCH, 'realarch SD-1.5 (tiny-sd15)', () => {
  let host: Host;
  beforeAll(async () => {
    host = await realarchHost();
  });
  afterAll(() => host?.close());

  itWith(REALARCH, 'sd15_base: euler/normal 8 steps, cfg 6.5: PNG and KSampler latent within the stated tolerance', async () => {
    const r = await runRealarchCase(host, 'sd15_base');
    expect(r.error).toBeUndefined();
    expect(r.latentShape).toEqual([1, 4, 8, 8]);
    expect(r.pngMaxLevels).toBeLessThanOrEqual(r.case.png_tolerance_levels);
    expect(r.latentMax).toBeLessThanOrEqual(r.case.latent_tolerance!);
  }, 120_000);
});
