/**
 * Bad LoRA files through the engine, as the server runs them: each fails its job with an error naming the
 * file and the first bad key, and the same host then runs a good LoRA workflow.
 */
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJson, type ApiWorkflow } from '../../engine/index.js';
import { createHost, type Host } from '../../host/host.js';
import { encodeSafetensors } from '../../runtime/safetensors-write.js';
import { ensureToyworld, MODELS_DIR } from '../nodes/diffusion/helpers.js';
import { tempDir } from '../fixtures/temp-dir.js';

let host: Host;
const base = tempDir('lf-lora-bad-');
const models = path.join(base, 'models');

beforeAll(async () => {
  await ensureToyworld();
  mkdirSync(path.join(models, 'checkpoints'), { recursive: true });
  mkdirSync(path.join(models, 'loras'), { recursive: true });
  symlinkSync(path.join(MODELS_DIR, 'checkpoints', 'toyworld-shapes'), path.join(models, 'checkpoints', 'toyworld-shapes'));
  copyFileSync(path.join(MODELS_DIR, 'loras', 'toyworld-purple.safetensors'), path.join(models, 'loras', 'good.safetensors'));
  const good = readFileSync(path.join(models, 'loras', 'good.safetensors'));
  writeFileSync(path.join(models, 'loras', 'truncated.safetensors'), good.subarray(0, good.length - 100));
  // A header whose first tensor claims more bytes than its dtype and shape need.
  const json = JSON.stringify({ 'lora_unet_text_prior.lora_down.weight': { dtype: 'F16', shape: [1, 768], data_offsets: [0, 4096] } });
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(path.join(models, 'loras', 'lying.safetensors'), Buffer.concat([len, Buffer.from(json), Buffer.alloc(4096)]));
  const huge = Buffer.alloc(16);
  huge.writeBigUInt64LE(1n << 40n);
  writeFileSync(path.join(models, 'loras', 'absurd.safetensors'), huge);
  writeFileSync(path.join(models, 'loras', 'rank.safetensors'), encodeSafetensors({
    'lora_unet_text_prior.lora_down.weight': { dtype: 'F16', shape: [2, 768], data: new Array(1536).fill(0) },
    'lora_unet_text_prior.lora_up.weight': { dtype: 'F16', shape: [320, 3], data: new Array(960).fill(0) },
  }));
  host = await createHost({ baseDir: base, modelsDir: models });
});
afterAll(() => host?.close());

async function runWith(lora: string): Promise<{ status: string; message?: string }> {
  const wf = parseJson(readFileSync(path.join('workflows', 'lora.json'), 'utf8')) as unknown as Record<string, { class_type: string; inputs: Record<string, unknown> }>;
  wf['10'].inputs.lora_name = lora;
  wf['11'].inputs.lora_name = 'good.safetensors';
  wf['11'].inputs.strength_model = 0;
  const res = await host.engine.run(wf as unknown as ApiWorkflow);
  return { status: res.status, message: res.error?.message };
}

describe('bad LoRA files (engine)', () => {
  it('fail the job naming the file and the first bad key; the host keeps serving', async () => {
    const cases: [string, RegExp][] = [
      ['truncated.safetensors', /truncated\.safetensors: tensor '[^']+' claims bytes up to \d+ but the file has \d+ \(truncated or lying header\)/],
      ['lying.safetensors', /lying\.safetensors: tensor 'lora_unet_text_prior\.lora_down\.weight' claims bytes 0\.\.4096 \(4096\) but F16 \[1, 768\] needs 1536/],
      ['absurd.safetensors', /absurd\.safetensors: header claims 1099511627776 bytes/],
      ['rank.safetensors', /rank\.safetensors: 'lora_unet_text_prior\.lora_up\.weight' \[320, 3\] x 'lora_unet_text_prior\.lora_down\.weight' \[2, 768\] disagree on the rank \(3 vs 2\)/],
    ];
    for (const [name, why] of cases) {
      const r = await runWith(name);
      expect(r.status).toBe('error');
      expect(r.message).toMatch(why);
    }
    expect((await runWith('good.safetensors')).status).toBe('success');
  }, 120_000);
});
