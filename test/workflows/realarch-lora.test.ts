/**
 * realarch LoRA cases: kohya (U-Net attention, 1x1 and 3x3 convs, text encoder, alpha), diffusers/PEFT
 * (no alpha: scale 1, negative CLIP strength) and a chain LoraLoader -> LoraLoaderModelOnly, against
 * ComfyUI's references (the residual U-Net cnet/ is patched too, though these cases never run it).
 */
import { afterAll, beforeAll, expect } from 'vitest';
import type { Host } from '../../host/host.js';
import { REALARCH, describeWith, itWith } from '../fixtures/shared-data.js';
import { realarchHost, runRealarchCase } from '../fixtures/realarch-cases.js';

describeWith(REALARCH, 'realarch LoRA (tiny-sd15)', () => {
  let host: Host;
  beforeAll(async () => {
    host = await realarchHost();
  });
  afterAll(() => host?.close());

  for (const name of ['lora_kohya', 'lora_peft', 'lora_chain']) {
    itWith(REALARCH, `${name}: PNG and KSampler latent within the stated tolerance`, async () => {
      const r = await runRealarchCase(host, name);
      expect(r.error).toBeUndefined();
      expect(r.pngMaxLevels).toBeLessThanOrEqual(r.case.png_tolerance_levels);
      expect(r.latentMax).toBeLessThanOrEqual(r.case.latent_tolerance!);
    }, 120_000);
  }
});

describeWith(REALARCH, 'realarch textual inversion (tiny-sd15)', () => {
  let host: Host;
  beforeAll(async () => {
    host = await realarchHost();
  });
  afterAll(() => host?.close());

  itWith(REALARCH, 'ti_embedding: embedding:tiny-ti takes two token slots (new ids 49408, 49409); PNG and latent within tolerance', async () => {
    const r = await runRealarchCase(host, 'ti_embedding');
    expect(r.error).toBeUndefined();
    expect(r.pngMaxLevels).toBeLessThanOrEqual(r.case.png_tolerance_levels);
    expect(r.latentMax).toBeLessThanOrEqual(r.case.latent_tolerance!);
  }, 120_000);
});
