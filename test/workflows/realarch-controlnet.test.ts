/**
 * realarch tiny-sd15 + tiny-sd15-cn (diffusers' ControlNetModel, random weights, onnx-web's residual U-Net
 * in cnet/) against ComfyUI's references: full range, and a partial range with a hint of another size.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import type { Host } from '../../host/host.js';
import { REALARCH, describeWith, itWith } from '../fixtures/shared-data.js';
import { realarchHost, runRealarchCase } from '../fixtures/realarch-cases.js';

describeWith(REALARCH, 'realarch ControlNet (tiny-sd15-cn)', () => {
  let host: Host;
  beforeAll(async () => {
    host = await realarchHost();
  });
  afterAll(() => host?.close());

  itWith(REALARCH, 'controlnet_full: strength 1, 0.0-1.0, euler/normal 8: PNG and latent within tolerance', async () => {
    const r = await runRealarchCase(host, 'controlnet_full');
    expect(r.error).toBeUndefined();
    expect(r.latentShape).toEqual([1, 4, 8, 8]);
    expect(r.pngMaxLevels).toBeLessThanOrEqual(r.case.png_tolerance_levels);
    expect(r.latentMax).toBeLessThanOrEqual(r.case.latent_tolerance!);
  }, 120_000);

  itWith(REALARCH, 'controlnet_full through the deprecated ControlNetApply on the positive only: the uncond copy gives the same result', async () => {
    const r = await runRealarchCase(host, 'controlnet_full', (wf) => {
      const adv = wf['14']!;
      wf['14'] = { class_type: 'ControlNetApply', inputs: { conditioning: adv.inputs.positive, control_net: adv.inputs.control_net, image: adv.inputs.image, strength: adv.inputs.strength } };
      wf['3']!.inputs.positive = ['14', 0];
      wf['3']!.inputs.negative = ['7', 0];
    });
    expect(r.error).toBeUndefined();
    expect(r.pngMaxLevels).toBeLessThanOrEqual(r.case.png_tolerance_levels);
    expect(r.latentMax).toBeLessThanOrEqual(r.case.latent_tolerance!);
  }, 120_000);

  itWith(REALARCH, 'controlnet_partial: strength 0.7, end 0.5, 128x96 hint for 64x48, euler/karras 10: within tolerance', async () => {
    const r = await runRealarchCase(host, 'controlnet_partial');
    expect(r.error).toBeUndefined();
    expect(r.latentShape).toEqual([1, 4, 6, 8]);
    expect(r.pngMaxLevels).toBeLessThanOrEqual(r.case.png_tolerance_levels);
    expect(r.latentMax).toBeLessThanOrEqual(r.case.latent_tolerance!);
  }, 120_000);
});
