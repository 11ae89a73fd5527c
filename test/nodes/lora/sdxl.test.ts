/**
 * LoRA on realarch's tiny-sdxl: kohya `lora_te1_` (CLIP-L), `lora_te2_` (bigG) and `lora_unet_` keys land on
 * their towers and U-Net (ComfyUI model_lora_keys_clip for SDXL), and the patched towers encode differently.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { Services } from '../../../engine/index.js';
import { loadCheckpoint, type Checkpoint } from '../../../nodes/diffusion/checkpoint.js';
import { encodeText } from '../../../nodes/diffusion/clip-text.js';
import { LoraLoader } from '../../../nodes/lora/index.js';
import { ModelPool } from '../../../runtime/model-pool.js';
import { encodeSafetensors, type SafetensorsEntry } from '../../../runtime/safetensors-write.js';
import { FOLDERS, MODEL_POOL } from '../../../runtime/services.js';
import { isClipModel, isDiffusionModel } from '../../../sockets/index.js';
import { REALARCH, describeWith, itWith } from '../../fixtures/shared-data.js';
import { nodeContext } from '../../fixtures/run-node.js';
import { tempDir } from '../../fixtures/temp-dir.js';

const models = tempDir('lf-lora-xl-');
mkdirSync(path.join(models, 'loras'), { recursive: true });

function pair(prefix: string, out: number, inn: number, alpha?: number): Record<string, SafetensorsEntry> {
  const r = 2;
  const e: Record<string, SafetensorsEntry> = {
    [`${prefix}.lora_down.weight`]: { dtype: 'F16', shape: [r, inn], data: Array.from({ length: r * inn }, (_, i) => ((i % 5) - 2) / 4) },
    [`${prefix}.lora_up.weight`]: { dtype: 'F16', shape: [out, r], data: Array.from({ length: out * r }, (_, i) => ((i % 3) - 1) / 2) },
  };
  if (alpha !== undefined) e[`${prefix}.alpha`] = { dtype: 'F16', shape: [], data: [alpha] };
  return e;
}

describeWith(REALARCH, 'LoRA on SDXL (realarch tiny-sdxl)', () => {
  let pool: ModelPool;
  let services: Services;
  let ck: Checkpoint;
  beforeAll(() => {
    writeFileSync(path.join(models, 'loras', 'xl.safetensors'), encodeSafetensors({
      ...pair('lora_te1_text_model_encoder_layers_0_self_attn_q_proj', 16, 16, 1),
      ...pair('lora_te2_text_model_encoder_layers_2_mlp_fc1', 128, 32),
      ...pair('lora_unet_down_blocks_1_attentions_0_transformer_blocks_0_attn2_to_k', 32, 48, 2),
    }));
    mkdirSync(path.join(models, 'embeddings'), { recursive: true });
    writeFileSync(path.join(models, 'embeddings', 'xl-emb.safetensors'), encodeSafetensors({
      clip_g: { dtype: 'F32', shape: [2, 32], data: Array.from({ length: 64 }, (_, i) => Math.sin(i)) },
      clip_l: { dtype: 'F32', shape: [2, 16], data: Array.from({ length: 32 }, (_, i) => Math.cos(i)) },
    }));
    pool = new ModelPool();
    services = new Services().set(MODEL_POOL, pool).set(FOLDERS, { base: models, models, input: models, output: models, temp: models, data: models });
    ck = loadCheckpoint(REALARCH.file('models/checkpoints/tiny-sdxl'), 'tiny-sdxl', pool);
  });
  afterAll(() => pool?.close());

  itWith(REALARCH, 'patches CLIP-L, bigG and the U-Net, and the conditioning changes', async () => {
    const logs: string[] = [];
    const out = await LoraLoader.run(nodeContext({ services, log: (m) => logs.push(m) }), { model: ck.model, clip: ck.clip, lora_name: 'xl.safetensors', strength_model: 1, strength_clip: 1 });
    if (!isDiffusionModel(out.MODEL) || !isClipModel(out.CLIP)) throw new TypeError('no MODEL/CLIP');
    expect(logs).toEqual([]);
    expect(out.CLIP.textEncoder.patch?.deltas.map((d) => [d.terms[0].scale, d.transposed])).toEqual([[0.5, true]]);
    expect(out.CLIP.clipG?.textEncoder.patch?.deltas.map((d) => [d.terms[0].scale, d.transposed])).toEqual([[1, true]]);
    expect(out.MODEL.unet.session.patch?.deltas.map((d) => d.terms[0].scale)).toEqual([1]);
    const base = await encodeText(ck.clip, 'a red circle');
    const lora = await encodeText(out.CLIP, 'a red circle');
    const diff = base[0].embeds.data.reduce((m, v, i) => Math.max(m, Math.abs(v - lora[0].embeds.data[i])), 0);
    expect(diff).toBeGreaterThan(1e-3);
    const pooled = base[0].pooled!.data.reduce((m, v, i) => Math.max(m, Math.abs(v - lora[0].pooled!.data[i])), 0);
    expect(pooled).toBeGreaterThan(1e-3);
  }, 60_000);

  itWith(REALARCH, 'SDXL embeddings: clip_l vectors go to CLIP-L and clip_g vectors to bigG, two slots each', async () => {
    const logs: string[] = [];
    const ctx = { signal: new AbortController().signal, log: (m: string) => logs.push(m) };
    const dir = path.join(models, 'embeddings');
    const plain = await encodeText(ck.clip, 'a photo of x y', ctx, dir);
    const emb = await encodeText(ck.clip, 'a photo of embedding:xl-emb', ctx, dir);
    expect(logs).toEqual([]);
    // Same token count (two slots for 'x y' and for the two vectors): positions 0..3 agree, slots 4, 5 differ.
    const d = emb[0].embeds.shape[2]!;
    const at = (t: number, c: typeof plain): Float32Array => c[0].embeds.data.subarray(t * d, (t + 1) * d);
    const maxDiff = (a: Float32Array, b: Float32Array): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
    expect(maxDiff(at(2, plain), at(2, emb))).toBe(0);
    expect(maxDiff(at(4, plain), at(4, emb))).toBeGreaterThan(1e-3);
    const missing = await encodeText(ck.clip, 'a photo of embedding:nope', ctx, dir);
    expect(missing[0].embeds.shape).toEqual(plain[0].embeds.shape);
    // Once per tower, as ComfyUI's clip_g and clip_l tokenizers each warn.
    expect(logs).toEqual(['warning, embedding:nope does not exist, ignoring', 'warning, embedding:nope does not exist, ignoring']);
  }, 60_000);
});
