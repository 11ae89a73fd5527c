/**
 * A LoRA file's adapters: its keys grouped by module prefix into (up, down, alpha) triples, following
 * ComfyUI comfy/weight_adapter/lora.py `LoRAAdapter.load` for the key spellings: kohya `.lora_up` /
 * `.lora_down`, diffusers/PEFT `.lora_B` / `.lora_A`, `_lora.up` / `_lora.down`, `.lora.up` / `.lora.down`
 * and transformers' `.lora_linear_layer.up` / `.down`, with `<prefix>.alpha` when present.
 */
import { readScalar, readSafetensorsHeader, type SafetensorsHeader } from '../../runtime/safetensors.js';
import { LoraFileError } from './errors.js';

export interface LoraAdapter {
  /** The module prefix the keys share (`lora_unet_down_blocks_0_...`, `unet.down_blocks.0....`). */
  readonly prefix: string;
  readonly up: string;
  readonly down: string;
  readonly upShape: readonly number[];
  readonly downShape: readonly number[];
  /** LoCon's Tucker middle factor `<prefix>.lora_mid.weight` [rank, rank, kh, kw], when the file has one. */
  readonly mid?: string;
  readonly midShape?: readonly number[];
  /** From `<prefix>.alpha`; undefined means scale 1 (ComfyUI: alpha = 1.0 when the file has none). */
  readonly alpha?: number;
  /** Every key this adapter uses (to tell unmatched keys apart). */
  readonly keys: readonly string[];
}

export interface LoraFile {
  readonly file: string;
  readonly header: SafetensorsHeader;
  readonly adapters: ReadonlyMap<string, LoraAdapter>;
  /** Keys that belong to no adapter this reader knows (LoHa, LoKr, DoRA scales, ...). */
  readonly unknownKeys: readonly string[];
}

/** [up suffix, down suffix] pairs in ComfyUI's order of preference. */
const PAIRS: readonly (readonly [string, string])[] = [
  ['.lora_up.weight', '.lora_down.weight'],
  ['_lora.up.weight', '_lora.down.weight'],
  ['.lora_B.weight', '.lora_A.weight'],
  ['.lora.up.weight', '.lora.down.weight'],
  ['.lora_linear_layer.up.weight', '.lora_linear_layer.down.weight'],
];

/** LoCon's Tucker middle factor (kohya-format files only, as ComfyUI reads it). */
const MID = '.lora_mid.weight';

/** Reads and groups the adapters of a .safetensors LoRA file (header and alphas only; factors stay on disk). */
export function readLoraFile(file: string): LoraFile {
  const header = readSafetensorsHeader(file);
  const keys = [...header.tensors.keys()];
  const adapters = new Map<string, LoraAdapter>();
  const used = new Set<string>();
  for (const key of keys) {
    for (const [upSuffix, downSuffix] of PAIRS) {
      if (!key.endsWith(upSuffix)) continue;
      const prefix = key.slice(0, -upSuffix.length);
      const down = prefix + downSuffix;
      const downInfo = header.tensors.get(down);
      if (!downInfo) throw new LoraFileError(`${file}: '${key}' has no matching '${down}'`);
      const midInfo = upSuffix === '.lora_up.weight' ? header.tensors.get(prefix + MID) : undefined;
      const alphaKey = `${prefix}.alpha`;
      const alpha = header.tensors.has(alphaKey) ? readScalar(header, alphaKey) : undefined;
      const upInfo = header.tensors.get(key);
      const own = [key, down, ...(alpha !== undefined ? [alphaKey] : []), ...(midInfo ? [midInfo.key] : [])];
      own.forEach((k) => used.add(k));
      adapters.set(prefix, {
        prefix, up: key, down, upShape: upInfo?.shape ?? [], downShape: downInfo.shape, alpha, keys: own,
        ...(midInfo ? { mid: midInfo.key, midShape: midInfo.shape } : {}),
      });
      break;
    }
  }
  return { file, header, adapters, unknownKeys: keys.filter((k) => !used.has(k)) };
}
