/**
 * realarch tiny-sdxl (diffusers' SDXL classes, random weights, optimum SDXL layout: two text towers with
 * hidden_states.N outputs, U-Net with text_embeds + time_ids, VAE scaling factor 0.13025) against ComfyUI's
 * references: CLIPTextEncode's default size conditioning, and CLIPTextEncodeSDXL's widgets with text_g != text_l.
 */
import { cpSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { tempDir } from '../fixtures/temp-dir.js';
import type { Host } from '../../host/host.js';
import { REALARCH, describeWith, itWith } from '../fixtures/shared-data.js';
import { realarchHost, runRealarchCase } from '../fixtures/realarch-cases.js';
import { formatVerifyReport, verifyModel } from '../../model-hub/verify.js';
import { MODEL_POOL } from '../../runtime/services.js';

describeWith(REALARCH, 'realarch SDXL (tiny-sdxl)', () => {
  let host: Host;
  beforeAll(async () => {
    host = await realarchHost();
  });
  afterAll(() => host?.close());

  for (const [name, shape] of [['sdxl_base', [1, 4, 8, 8]], ['sdxl_textencode_sdxl', [1, 4, 8, 12]]] as const) {
    itWith(REALARCH, `${name}: PNG and KSampler latent within the stated tolerance`, async () => {
      const r = await runRealarchCase(host, name);
      expect(r.error).toBeUndefined();
      expect(r.latentShape).toEqual(shape);
      expect(r.pngMaxLevels).toBeLessThanOrEqual(r.case.png_tolerance_levels);
      expect(r.latentMax).toBeLessThanOrEqual(r.case.latent_tolerance!);
    }, 120_000);
  }

  itWith(REALARCH, "external data named model.onnx.data (another exporter's name) loads like model.onnx_data: sdxl_base still matches", async () => {
    const models = tempDir('lf-realarch-extdata-');
    const ck = path.join(models, 'checkpoints', 'tiny-sdxl');
    cpSync(REALARCH.file('models/checkpoints/tiny-sdxl'), ck, { recursive: true });
    // Same length, so the protobuf's string lengths stay valid.
    const model = readFileSync(path.join(ck, 'unet', 'model.onnx'));
    const from = Buffer.from('model.onnx_data');
    let n = 0;
    for (let i = model.indexOf(from); i >= 0; i = model.indexOf(from, i + 1), n++) Buffer.from('model.onnx.data').copy(model, i);
    expect(n).toBeGreaterThan(0);
    writeFileSync(path.join(ck, 'unet', 'model.onnx'), model);
    renameSync(path.join(ck, 'unet', 'model.onnx_data'), path.join(ck, 'unet', 'model.onnx.data'));
    const other = await realarchHost({ modelsDir: models });
    try {
      const r = await runRealarchCase(other, 'sdxl_base');
      expect(r.error).toBeUndefined();
      expect(r.latentMax).toBeLessThanOrEqual(r.case.latent_tolerance!);
    } finally {
      await other.close();
    }
  }, 120_000);

  itWith(REALARCH, '`models verify` drives tiny-sdxl: both towers with hidden_states.N, the U-Net with text_embeds + time_ids', async () => {
    const [r] = await verifyModel(REALARCH.file('models'), 'tiny-sdxl', host.services.get(MODEL_POOL));
    expect(r!.ok, formatVerifyReport(r!)).toBe(true);
    expect(r!.flavour).toBe('optimum >=1.24 fp32 (int64 ids, float timestep []), SDXL base, latent_parameters VAE');
    expect(formatVerifyReport(r!)).toMatch(/OK, latentflow can drive it/);
  });
});
