/**
 * Applying a LoRA to MODEL and CLIP values: every U-Net component (the plain U-Net and the residual
 * cnet/ one, `unetComponents`) and the text encoder get a new session handle whose weight patch adds
 * the LoRA's deltas (ComfyUI comfy/sd.py `load_lora_for_models`). Handles of equal patches share one
 * U-Net batching point, so concurrent jobs with the same LoRAs still merge their steps.
 */
import { statSync } from 'node:fs';
import { UNetQueue } from '../../runtime/batching/unet-queue.js';
import { readWeightIndex, type WeightIndex } from '../../runtime/onnx-weights.js';
import type { SessionHandle, SessionSource } from '../../runtime/session-handle.js';
import type { WeightPatch } from '../../runtime/weight-patch.js';
import type { ClipModel, DiffusionModel } from '../../sockets/index.js';
import { loraDeltas, mergePatch } from './apply.js';
import { clipKeyMap, unetKeyMap, weightSlots, type WeightSlot } from './key-map.js';
import type { LoraAdapter, LoraFile } from './lora-file.js';

/** Per session source: weight indexes by model file (with its mtime) and U-Net queues by patch. */
interface SourceCache {
  readonly indexes: Map<string, { stamp: string; slots: Map<string, WeightSlot> }>;
  readonly queues: Map<string, UNetQueue>;
}
const caches = new WeakMap<SessionSource, SourceCache>();

function cacheOf(source: SessionSource): SourceCache {
  let c = caches.get(source);
  if (!c) caches.set(source, (c = { indexes: new Map(), queues: new Map() }));
  return c;
}

function slotsOf(source: SessionSource, file: string): Map<string, WeightSlot> {
  const cache = cacheOf(source).indexes;
  const st = statSync(file);
  const stamp = `${st.size}:${st.mtimeMs}`;
  const hit = cache.get(file);
  if (hit && hit.stamp === stamp) return hit.slots;
  const index: WeightIndex = readWeightIndex(file);
  const slots = weightSlots(index);
  cache.set(file, { stamp, slots });
  return slots;
}

function queueFor(handle: SessionHandle, patch: WeightPatch): UNetQueue {
  const queues = cacheOf(handle.source).queues;
  const key = `${handle.path}\0${JSON.stringify(patch)}`;
  let q = queues.get(key);
  if (!q) queues.set(key, (q = new UNetQueue(handle.withPatch(patch))));
  return q;
}

export interface Patched<T> {
  readonly value: T;
  readonly matched: readonly LoraAdapter[];
}

/** `model` with `lora` at `strength` added to each of its U-Nets. */
export function patchDiffusionModel(model: DiffusionModel, lora: LoraFile, strength: number): Patched<DiffusionModel> {
  const patchQueue = (q: UNetQueue): { queue: UNetQueue; matched: LoraAdapter[] } => {
    const h = q.session;
    const { deltas, matched } = loraDeltas(lora, unetKeyMap(slotsOf(h.source, h.path)), strength);
    if (deltas.length === 0) return { queue: q, matched };
    return { queue: queueFor(h, mergePatch(h.patch, deltas)), matched };
  };
  const unet = patchQueue(model.unet);
  const residual = model.residualUnet ? patchQueue(model.residualUnet) : undefined;
  return { value: { ...model, unet: unet.queue, ...(residual ? { residualUnet: residual.queue } : {}) }, matched: unet.matched };
}

function patchTower(h: SessionHandle, lora: LoraFile, strength: number, kohya: readonly string[], diffusers: string): { handle: SessionHandle; matched: LoraAdapter[] } {
  const { deltas, matched } = loraDeltas(lora, clipKeyMap(slotsOf(h.source, h.path), kohya, diffusers), strength);
  return { handle: deltas.length > 0 ? h.withPatch(mergePatch(h.patch, deltas)) : h, matched };
}

/**
 * `clip` with `lora` at `strength` added to its text towers, with comfy/lora.py `model_lora_keys_clip`'s
 * prefixes: SD 1.x and SDXL's CLIP-L `lora_te_` / `lora_te1_` / `text_encoder.`; SDXL's bigG `lora_te2_` /
 * `text_encoder_2.`; the SDXL refiner's lone bigG tower `lora_te_` / `text_encoder.`.
 */
export function patchClip(clip: ClipModel, lora: LoraFile, strength: number): Patched<ClipModel> {
  if (clip.sdxl === 'refiner') {
    const g = patchTower(clip.textEncoder, lora, strength, ['lora_te_'], 'text_encoder');
    return { value: g.handle === clip.textEncoder ? clip : { ...clip, textEncoder: g.handle }, matched: g.matched };
  }
  const l = patchTower(clip.textEncoder, lora, strength, ['lora_te_', 'lora_te1_'], 'text_encoder');
  const g = clip.clipG ? patchTower(clip.clipG.textEncoder, lora, strength, ['lora_te2_'], 'text_encoder_2') : undefined;
  const matched = [...l.matched, ...(g?.matched ?? [])];
  if (l.handle === clip.textEncoder && (!g || !clip.clipG || g.handle === clip.clipG.textEncoder)) return { value: clip, matched };
  const clipG = clip.clipG && g ? { ...clip.clipG, textEncoder: g.handle } : clip.clipG;
  return { value: { ...clip, textEncoder: l.handle, ...(clipG ? { clipG } : {}) }, matched };
}
