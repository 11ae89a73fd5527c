/**
 * From a LoRA file and a strength to weight patches, per ComfyUI comfy/sd.py `load_lora_for_models` and
 * comfy/weight_adapter/lora.py `LoRAAdapter.calculate_weight`: each matched adapter adds
 * strength * (alpha / rank, or 1 without alpha) * up @ down to its weight; chained LoRAs add their terms
 * to the same patch (a strength change re-merges from the base weights, since a patch is a description,
 * not a result).
 */
import type { LowRankTerm, WeightDelta, WeightPatch } from '../../runtime/weight-patch.js';
import { LoraMismatchError } from './errors.js';
import type { WeightSlot } from './key-map.js';
import type { LoraAdapter, LoraFile } from './lora-file.js';

const product = (d: readonly number[]): number => d.reduce((a, x) => a * x, 1);

/** The delta's input size: down's, times the Tucker middle factor's kernel when there is one. */
function deltaInputs(file: string, a: LoraAdapter): number {
  if (!a.mid || !a.midShape) return product(a.downShape.slice(1));
  const rank = a.downShape[0];
  if (a.midShape.length !== 4 || a.midShape[1] !== rank) {
    throw new LoraMismatchError(`${file}: '${a.mid}' [${a.midShape.join(', ')}] does not fit '${a.down}' [${a.downShape.join(', ')}] (want [rank, ${rank}, kh, kw])`);
  }
  return product(a.downShape.slice(1)) * a.midShape[2] * a.midShape[3];
}

function checkShape(file: string, a: LoraAdapter, s: WeightSlot): void {
  const out = a.upShape[0];
  const rank = a.mid && a.midShape ? a.midShape[0] : a.downShape[0];
  const inn = deltaInputs(file, a);
  const fail = (why: string): LoraMismatchError =>
    new LoraMismatchError(`${file}: '${a.up}' [${a.upShape.join(', ')}] x '${a.down}' [${a.downShape.join(', ')}] ${why} ('${s.module}' is [${s.dims.join(', ')}]${s.transposed ? ' stored transposed' : ''})`);
  if (product(a.upShape.slice(1)) !== rank) throw fail(`disagree on the rank (${product(a.upShape.slice(1))} vs ${rank})`);
  const wOut = s.transposed ? s.dims[s.dims.length - 1] : s.dims[0];
  const wIn = s.transposed ? product(s.dims.slice(0, -1)) : product(s.dims.slice(1));
  if (wOut !== out || wIn !== inn) throw fail(`give a [${out}, ${inn}] delta for a [${wOut}, ${wIn}] weight; is the LoRA for another model?`);
}

/** The deltas `lora` adds at `strength` to the weights `keyMap` names, and the adapters it matched. */
export function loraDeltas(lora: LoraFile, keyMap: ReadonlyMap<string, WeightSlot>, strength: number): { deltas: WeightDelta[]; matched: LoraAdapter[] } {
  const deltas: WeightDelta[] = [];
  const matched: LoraAdapter[] = [];
  for (const a of lora.adapters.values()) {
    const slot = keyMap.get(a.prefix);
    if (!slot) continue;
    checkShape(lora.file, a, slot);
    matched.push(a);
    // ComfyUI's alpha / mat2.shape[0]: the down factor's rank, also with a middle factor.
    const scale = strength * (a.alpha !== undefined ? a.alpha / a.downShape[0] : 1);
    const term: LowRankTerm = { file: lora.file, up: a.up, down: a.down, ...(a.mid ? { mid: a.mid } : {}), scale };
    deltas.push({ target: slot.target, transposed: slot.transposed, terms: [term] });
  }
  return { deltas, matched };
}

/** `base` plus `deltas`: terms for the same weight are added; targets kept in name order (stable cache keys). */
export function mergePatch(base: WeightPatch | undefined, deltas: readonly WeightDelta[]): WeightPatch {
  const byTarget = new Map<string, WeightDelta>();
  for (const d of [...(base?.deltas ?? []), ...deltas]) {
    const prev = byTarget.get(d.target);
    byTarget.set(d.target, prev ? { ...prev, terms: [...prev.terms, ...d.terms] } : d);
  }
  const merged = [...byTarget.values()].sort((a, b) => (a.target < b.target ? -1 : a.target > b.target ? 1 : 0));
  return base?.append ? { deltas: merged, append: base.append } : { deltas: merged };
}

/** Keys of `lora` that no matched adapter used (reported once, as ComfyUI's "lora key not loaded"). */
export function unmatchedKeys(lora: LoraFile, matched: Iterable<LoraAdapter>): string[] {
  const used = new Set<string>();
  for (const a of matched) for (const k of a.keys) used.add(k);
  return [...lora.header.tensors.keys()].filter((k) => !used.has(k));
}
