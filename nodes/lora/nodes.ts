/** LoraLoader and LoraLoaderModelOnly (ComfyUI nodes.py) over .safetensors LoRAs in models/loras/. */
import path from 'node:path';
import { COMBO, FLOAT, containedLexicalPath, defineNode, type NodeContext, type Services } from '../../engine/index.js';
import { listFilesWithExtensions } from '../../runtime/model-folders.js';
import { FOLDERS } from '../../runtime/services.js';
import { CLIP, MODEL } from '../../sockets/index.js';
import { unmatchedKeys } from './apply.js';
import { LoraFileError, LoraMismatchError } from './errors.js';
import { readLoraFile, type LoraAdapter, type LoraFile } from './lora-file.js';
import { patchClip, patchDiffusionModel } from './patch-model.js';

/** ComfyUI lists pickles too; latentflow lists them so that choosing one says why it cannot load. */
const LORA_EXTENSIONS = ['.safetensors', '.pt', '.ckpt', '.bin', '.pth'];
/** NOTE: ComfyUI logs every unmatched key; a few examples keep a mismatched LoRA's report readable. */
const EXAMPLES = 5;

export function lorasDir(services: Services): string {
  return path.join(services.get(FOLDERS).models, 'loras');
}

export function listLoras(services: Services): string[] {
  return listFilesWithExtensions(lorasDir(services), LORA_EXTENSIONS);
}

function openLora(services: Services, name: string): LoraFile {
  const file = containedLexicalPath(lorasDir(services), name);
  if (!name.toLowerCase().endsWith('.safetensors')) {
    throw new LoraFileError(`${name}: only .safetensors LoRAs are loaded; a ${path.extname(name)} file is a Python pickle, which can run arbitrary code when read (convert it to .safetensors)`);
  }
  return readLoraFile(file);
}

/** A link input with ComfyUI's tooltip (a socket's own spec carries none). */
const described = <S extends { readonly info: Readonly<Record<string, unknown>> }>(socket: S, tooltip: string): S => ({ ...socket, info: Object.freeze({ tooltip }) });

const strength = (what: string) =>
  FLOAT({ default: 1.0, min: -100.0, max: 100.0, step: 0.01, tooltip: `How strongly to modify the ${what}. This value can be negative.` });

/** Reports keys that matched nothing once; refuses a LoRA of which nothing matched (another architecture). */
function report(ctx: NodeContext, node: string, name: string, lora: LoraFile, matched: readonly LoraAdapter[]): void {
  const missed = unmatchedKeys(lora, matched);
  if (matched.length === 0) {
    throw new LoraMismatchError(`${node}: none of the ${lora.header.tensors.size} keys of ${name} match a weight of this model (first: '${missed[0] ?? ''}'); is it a LoRA for another architecture?`);
  }
  if (missed.length > 0) {
    ctx.log(`${node}: ${missed.length} keys of ${name} matched no weight and were not loaded (e.g. ${missed.slice(0, EXAMPLES).join(', ')})`);
  }
}

export const LoraLoader = defineNode({
  type: 'LoraLoader',
  displayName: 'Load LoRA',
  category: 'loaders',
  version: '1.0.0',
  description: 'LoRAs are used to modify diffusion and CLIP models, altering the way in which latents are denoised such as applying styles. Multiple LoRA nodes can be linked together.',
  inputs: {
    model: described(MODEL, 'The diffusion model the LoRA will be applied to.'),
    clip: described(CLIP, 'The CLIP model the LoRA will be applied to.'),
    lora_name: COMBO(listLoras, { tooltip: 'The name of the LoRA.' }),
    strength_model: strength('diffusion model'),
    strength_clip: strength('CLIP model'),
  },
  outputs: { MODEL, CLIP },
  run(ctx, { model, clip, lora_name, strength_model, strength_clip }) {
    if (strength_model === 0 && strength_clip === 0) return { MODEL: model, CLIP: clip };
    const lora = openLora(ctx.services, lora_name);
    const m = strength_model !== 0 ? patchDiffusionModel(model, lora, strength_model) : { value: model, matched: [] };
    const c = strength_clip !== 0 ? patchClip(clip, lora, strength_clip) : { value: clip, matched: [] };
    // Keys are matched against both models even at strength 0, as ComfyUI's key map covers both.
    const matched = [...m.matched, ...c.matched];
    if (strength_model === 0) matched.push(...patchDiffusionModel(model, lora, 1).matched);
    if (strength_clip === 0) matched.push(...patchClip(clip, lora, 1).matched);
    report(ctx, 'LoraLoader', lora_name, lora, matched);
    return { MODEL: m.value, CLIP: c.value };
  },
});

export const LoraLoaderModelOnly = defineNode({
  type: 'LoraLoaderModelOnly',
  category: 'loaders',
  version: '1.0.0',
  inputs: {
    model: MODEL,
    lora_name: COMBO(listLoras),
    strength_model: FLOAT({ default: 1.0, min: -100.0, max: 100.0, step: 0.01 }),
  },
  outputs: { MODEL },
  run(ctx, { model, lora_name, strength_model }) {
    if (strength_model === 0) return { MODEL: model };
    const lora = openLora(ctx.services, lora_name);
    const m = patchDiffusionModel(model, lora, strength_model);
    report(ctx, 'LoraLoaderModelOnly', lora_name, lora, m.matched);
    return { MODEL: m.value };
  },
});
