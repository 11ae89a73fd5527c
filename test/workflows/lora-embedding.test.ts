/**
 * workflows/lora.json and workflows/embedding.json on toyworld: the LoRAs move the text prior of "red" to
 * purple and of "circle" to square (toyworld/models/adapters.ts), the embedding stands for "red".
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJson, type ApiWorkflow } from '../../engine/index.js';
import { createHost, type Host } from '../../host/host.js';
import { decodeImage } from '../../imaging/codec.js';
import type { Tensor } from '../../runtime/tensor.js';
import { MODEL_POOL } from '../../runtime/services.js';
import { classify, ensureToyworld, MODELS_DIR } from '../nodes/diffusion/helpers.js';
import { writeWorkflowInputs } from './helpers.js';

type Wf = Record<string, { class_type: string; inputs: Record<string, unknown> }>;
let host: Host;
let base: string;

beforeAll(async () => {
  await ensureToyworld();
  base = await mkdtemp(path.join(tmpdir(), 'lf-lora-wf-'));
  await writeWorkflowInputs(path.join(base, 'input'));
  host = await createHost({ baseDir: base, modelsDir: MODELS_DIR });
});
afterAll(async () => {
  await host.close();
  await rm(base, { recursive: true, force: true });
});

async function run(name: string, edit?: (wf: Wf) => void): Promise<{ image: Tensor }> {
  const wf = parseJson(await readFile(path.join('workflows', `${name}.json`), 'utf8')) as unknown as Wf;
  edit?.(wf);
  const res = await host.engine.run(wf as unknown as ApiWorkflow);
  expect(res.error?.message).toBeUndefined();
  expect(res.status).toBe('success');
  const images = Object.values(res.outputs).flatMap((ui) => (ui.images ?? []) as { filename: string; subfolder: string }[]);
  const file = path.join(base, 'output', images[0].subfolder, images[0].filename);
  return { image: (await decodeImage(await readFile(file))).image };
}

const label = async (t: Tensor): Promise<string> => (await classify(host.services.get(MODEL_POOL), t)).label;

describe('LoRA and embedding workflows (toyworld)', () => {
  it('lora.json: two chained LoRAs turn "a red circle" into a purple square', async () => {
    expect(await label((await run('lora')).image)).toBe('purple square');
  }, 60_000);

  it('each LoRA alone, and at strength 0 the picture is the plain red circle', async () => {
    const only = (purple: number, square: number) => (wf: Wf) => {
      wf['10'].inputs.strength_model = purple;
      wf['11'].inputs.strength_model = square;
    };
    expect(await label((await run('lora', only(1, 0))).image)).toBe('purple circle');
    expect(await label((await run('lora', only(0, 1))).image)).toBe('red square');
    const off = await run('lora', only(0, 0));
    expect(await label(off.image)).toBe('red circle');
    const plain = await run('lora', (wf) => {
      wf['3'].inputs.model = ['4', 0];
      wf['6'].inputs.clip = ['4', 1];
      wf['7'].inputs.clip = ['4', 1];
    });
    expect(off.image.data).toEqual(plain.image.data);
  }, 120_000);

  it('embedding.json: "a embedding:toyworld-crimson triangle" draws a red triangle; without the embedding the colour is another', async () => {
    expect(await label((await run('embedding')).image)).toBe('red triangle');
    const without = await label((await run('embedding', (wf) => {
      wf['6'].inputs.text = 'a triangle';
    })).image);
    expect(without).toMatch(/ triangle$/);
    expect(without).not.toBe('red triangle');
  }, 60_000);

  // With the ControlNet on every step (and on the negative row), only cnet/ runs: were it unpatched, the two
  // pictures would be equal bit for bit. The silhouette components outweigh the prototypes the LoRA moves, so
  // the change is small.
  it('the residual U-Net (cnet/) is patched too: with the ControlNet on every step, the LoRA still changes the picture', async () => {
    const withLora = (strength: number) => (wf: Wf) => {
      wf['20'] = { class_type: 'LoraLoaderModelOnly', inputs: { model: ['4', 0], lora_name: 'toyworld-purple.safetensors', strength_model: strength } };
      wf['3'].inputs.model = ['20', 0];
      wf['6'].inputs.text = 'a red circle';
    };
    const on = (await run('controlnet', withLora(1))).image.data;
    const off = (await run('controlnet', withLora(0))).image.data;
    let diff = 0;
    for (let i = 0; i < on.length; i++) diff = Math.max(diff, Math.abs(on[i]! - off[i]!));
    expect(diff).toBeGreaterThan(0);
  }, 120_000);
});
