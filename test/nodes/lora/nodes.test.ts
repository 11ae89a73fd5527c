/**
 * LoraLoader / LoraLoaderModelOnly on realarch's tiny-sd15: what they patch, what they report and what
 * they refuse. Image-level parity with ComfyUI is in test/workflows/realarch-lora.test.ts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { Services } from '../../../engine/index.js';
import { loadCheckpoint, type Checkpoint } from '../../../nodes/diffusion/checkpoint.js';
import { LoraLoader, LoraLoaderModelOnly, listLoras } from '../../../nodes/lora/index.js';
import { ModelPool } from '../../../runtime/model-pool.js';
import { encodeSafetensors } from '../../../runtime/safetensors-write.js';
import { FOLDERS, MODEL_POOL } from '../../../runtime/services.js';
import { isClipModel, isDiffusionModel, type ClipModel, type DiffusionModel } from '../../../sockets/index.js';
import { REALARCH, describeWith, itWith } from '../../fixtures/shared-data.js';
import { nodeContext } from '../../fixtures/run-node.js';
import { tempDir } from '../../fixtures/temp-dir.js';

const models = tempDir('lf-lora-');
const loras = path.join(models, 'loras');
mkdirSync(loras, { recursive: true });

describeWith(REALARCH, 'LoRA loader nodes (realarch tiny-sd15)', () => {
  let pool: ModelPool;
  let services: Services;
  let ck: Checkpoint;
  const logs: string[] = [];
  const ctx = () => nodeContext({ services, log: (m) => logs.push(m) });

  beforeAll(() => {
    for (const f of ['tiny-sd15-kohya.safetensors', 'tiny-sd15-peft.safetensors']) {
      writeFileSync(path.join(loras, f), new Uint8Array(0));
    }
    // Test LoRAs: one for another architecture (conv_in of 8 channels), one matching nothing, one pickle.
    writeFileSync(path.join(loras, 'wrong-shape.safetensors'), encodeSafetensors({
      'lora_unet_conv_in.lora_down.weight': { dtype: 'F32', shape: [1, 8, 3, 3], data: new Array(72).fill(0) },
      'lora_unet_conv_in.lora_up.weight': { dtype: 'F32', shape: [32, 1, 1, 1], data: new Array(32).fill(0) },
    }));
    writeFileSync(path.join(loras, 'other-arch.safetensors'), encodeSafetensors({
      'lora_unet_input_blocks_1_1_proj_in.lora_down.weight': { dtype: 'F32', shape: [1, 4], data: [0, 0, 0, 0] },
      'lora_unet_input_blocks_1_1_proj_in.lora_up.weight': { dtype: 'F32', shape: [4, 1], data: [0, 0, 0, 0] },
    }));
    writeFileSync(path.join(loras, 'old.ckpt'), 'not read');
    pool = new ModelPool();
    services = new Services().set(MODEL_POOL, pool).set(FOLDERS, { base: models, models, input: models, output: models, temp: models, data: models });
    ck = loadCheckpoint(REALARCH.file('models/checkpoints/tiny-sd15'), 'tiny-sd15', pool);
  });
  afterAll(() => pool?.close());

  /** Points models/ at realarch's (its loras/ holds the real LoRA files). */
  const real = (): void => {
    services.set(FOLDERS, { base: models, models: REALARCH.file('models'), input: models, output: models, temp: models, data: models });
  };
  const mine = (): void => {
    services.set(FOLDERS, { base: models, models, input: models, output: models, temp: models, data: models });
  };

  async function loraLoader(lora_name: string, strength_model: number, strength_clip: number, model: DiffusionModel = ck.model, clip: ClipModel = ck.clip) {
    const out = await LoraLoader.run(ctx(), { model, clip, lora_name, strength_model, strength_clip });
    if (!isDiffusionModel(out.MODEL) || !isClipModel(out.CLIP)) throw new TypeError('LoraLoader gave no MODEL/CLIP');
    return { model: out.MODEL, clip: out.CLIP };
  }

  itWith(REALARCH, 'lists models/loras (pickles too, so choosing one says why it is refused)', () => {
    mine();
    expect(listLoras(services)).toEqual(['old.ckpt', 'other-arch.safetensors', 'tiny-sd15-kohya.safetensors', 'tiny-sd15-peft.safetensors', 'wrong-shape.safetensors']);
  });

  itWith(REALARCH, 'patches every U-Net (plain and residual) and the text encoder; strength 0 returns the inputs themselves', async () => {
    real();
    const { model, clip } = await loraLoader('tiny-sd15-kohya.safetensors', 1, 0.5);
    expect(model.unet).not.toBe(ck.model.unet);
    expect(model.residualUnet).toBeDefined();
    expect(model.residualUnet).not.toBe(ck.model.residualUnet);
    const unetPatch = model.unet.session.patch!;
    const residualPatch = model.residualUnet!.session.patch!;
    // 11 attention/FF Linears + proj_in (1x1) + two 3x3 convs, in both U-Nets; targets differ (anonymous MatMul names).
    expect(unetPatch.deltas).toHaveLength(14);
    expect(residualPatch.deltas).toHaveLength(14);
    expect(unetPatch.deltas.find((d) => d.target === 'down_blocks.1.resnets.0.conv1.weight')?.transposed).toBe(false);
    expect(unetPatch.deltas.filter((d) => d.transposed)).toHaveLength(11);
    // kohya alpha 2, rank 4: scale = strength * 0.5.
    expect(unetPatch.deltas[0].terms[0].scale).toBe(0.5);
    expect(clip.textEncoder.patch?.deltas).toHaveLength(6);
    expect(clip.textEncoder.patch?.deltas[0].terms[0].scale).toBe(0.25);

    const same = await loraLoader('tiny-sd15-kohya.safetensors', 0, 0);
    expect(same.model).toBe(ck.model);
    expect(same.clip).toBe(ck.clip);
    // Equal LoRA sets share one U-Net batching point, so their jobs still merge steps.
    const again = await loraLoader('tiny-sd15-kohya.safetensors', 1, 0.5);
    expect(again.model.unet).toBe(model.unet);
  });

  itWith(REALARCH, 'chains add terms to the same weights; a strength change re-describes from the base weights', async () => {
    real();
    const a = await loraLoader('tiny-sd15-kohya.safetensors', 0.8, 0.4);
    const b = await LoraLoaderModelOnly.run(ctx(), { model: a.model, lora_name: 'tiny-sd15-peft.safetensors', strength_model: -1 });
    if (!isDiffusionModel(b.MODEL)) throw new TypeError('no MODEL');
    const terms = b.MODEL.unet.session.patch!.deltas.flatMap((d) => d.terms.map((t) => [path.basename(t.file), t.scale]));
    expect(terms.filter(([f]) => f === 'tiny-sd15-kohya.safetensors').every(([, s]) => s === 0.4)).toBe(true);
    expect(terms.filter(([f]) => f === 'tiny-sd15-peft.safetensors').every(([, s]) => s === -1)).toBe(true);
    const twice = await loraLoader('tiny-sd15-kohya.safetensors', 1, 0, a.model, a.clip);
    expect(twice.model.unet.session.patch!.deltas[0].terms.map((t) => t.scale)).toEqual([0.4, 0.5]);
  });

  itWith(REALARCH, 'reports keys that matched nothing once, with examples (ModelOnly leaves the text-encoder keys)', async () => {
    real();
    logs.length = 0;
    await LoraLoaderModelOnly.run(ctx(), { model: ck.model, lora_name: 'tiny-sd15-kohya.safetensors', strength_model: 1 });
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/^LoraLoaderModelOnly: 18 keys of tiny-sd15-kohya\.safetensors matched no weight and were not loaded \(e\.g\. lora_te_text_model_encoder_layers_0/);
    logs.length = 0;
    await loraLoader('tiny-sd15-peft.safetensors', 1, 1);
    expect(logs).toEqual([]);
  });

  itWith(REALARCH, 'refuses pickles, LoRAs for another architecture and shape mismatches, naming file and key', async () => {
    mine();
    await expect(loraLoader('old.ckpt', 1, 1)).rejects.toThrow(/old\.ckpt: only \.safetensors LoRAs are loaded; a \.ckpt file is a Python pickle/);
    await expect(loraLoader('other-arch.safetensors', 1, 1)).rejects.toThrow(
      /none of the 2 keys of other-arch\.safetensors match a weight of this model \(first: 'lora_unet_input_blocks_1_1_proj_in\.lora_down\.weight'\); is it a LoRA for another architecture\?/,
    );
    await expect(loraLoader('wrong-shape.safetensors', 1, 1)).rejects.toThrow(
      /wrong-shape\.safetensors: 'lora_unet_conv_in\.lora_up\.weight' \[32, 1, 1, 1\] x 'lora_unet_conv_in\.lora_down\.weight' \[1, 8, 3, 3\] give a \[32, 72\] delta for a \[32, 36\] weight/,
    );
    await expect(loraLoader('tiny-sd15-kohya.safetensors', 1, 1)).rejects.toThrow(/tiny-sd15-kohya\.safetensors: 0 bytes is too short/);
  });
});
