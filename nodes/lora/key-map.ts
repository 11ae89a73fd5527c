/**
 * LoRA key -> ONNX initializer, after ComfyUI comfy/lora.py `model_lora_keys_unet` and
 * `model_lora_keys_clip`. ONNX exports keep PyTorch's names in two places: a Conv or Gemm weight is the
 * initializer `<module>.weight` ([out, in, ...]); a Linear becomes a MatMul named
 * `/<module path with '/'>/MatMul` whose second input is an anonymous initializer holding W transposed
 * ([in, out]). The model's own module names come from those, never from splitting kohya's '_' names.
 */
import type { WeightIndex } from '../../runtime/onnx-weights.js';

/** Where a module's weight is in the ONNX file. */
export interface WeightSlot {
  readonly module: string;
  readonly target: string;
  /** The initializer stores W^T (a MatMul's [in, out] weight, or a Gemm without transB). */
  readonly transposed: boolean;
  readonly dims: readonly number[];
}

function intAttr(attrs: readonly Record<string, unknown>[], name: string): number | undefined {
  const a = attrs.find((x) => x.name === name);
  return a && typeof a.i === 'number' ? a.i : undefined;
}

/** `/down_blocks.0/attentions.0/.../to_q/MatMul` -> `down_blocks.0.attentions.0....to_q`. */
function moduleOfNode(nodeName: string): string | undefined {
  const parts = nodeName.split('/').filter((p) => p !== '');
  if (parts.length < 2) return undefined;
  return parts.slice(0, -1).join('.');
}

/** Every module with a patchable weight: MatMul and Gemm weights by node name, `<module>.weight` initializers. */
export function weightSlots(index: WeightIndex): Map<string, WeightSlot> {
  const out = new Map<string, WeightSlot>();
  for (const n of index.nodes) {
    if (n.opType !== 'MatMul' && n.opType !== 'Gemm') continue;
    const init = index.initializers.get(n.inputs[1] ?? '');
    const module = moduleOfNode(n.name);
    if (!init || !module || init.dims.length !== 2) continue;
    const transposed = n.opType === 'MatMul' || intAttr(n.attributes, 'transB') !== 1;
    out.set(module, { module, target: init.name, transposed, dims: init.dims });
  }
  for (const init of index.initializers.values()) {
    if (!init.name.endsWith('.weight') || init.dims.length < 2) continue;
    const module = init.name.slice(0, -'.weight'.length);
    if (!out.has(module)) out.set(module, { module, target: init.name, transposed: false, dims: init.dims });
  }
  return out;
}

/** U-Net keys: kohya `lora_unet_<module with '_'>`, diffusers `unet.<module>` / `<module>` with `.processor.to_*`. */
export function unetKeyMap(slots: ReadonlyMap<string, WeightSlot>): Map<string, WeightSlot> {
  const map = new Map<string, WeightSlot>();
  for (const s of slots.values()) {
    map.set(`lora_unet_${s.module.replace(/\./g, '_')}`, s);
    // ComfyUI knows diffusers attention projections only under their attention-processor names.
    let diffusers = s.module.replace(/\.to_/g, '.processor.to_');
    if (diffusers.endsWith('.to_out.0')) diffusers = diffusers.slice(0, -2);
    map.set(diffusers, s);
    map.set(`unet.${diffusers}`, s);
  }
  return map;
}

/** The text-encoder modules ComfyUI's LORA_CLIP_MAP patches: attention projections and MLP layers. */
const CLIP_MODULE = /^text_model\.encoder\.layers\.(\d+)\.(mlp\.fc1|mlp\.fc2|self_attn\.k_proj|self_attn\.q_proj|self_attn\.v_proj|self_attn\.out_proj)$/;

/**
 * Text-encoder keys for one tower: `kohya` prefixes (`lora_te_`, plus `lora_te1_` for SD1/SDXL clip_l or
 * `lora_te2_` for clip_g) and the diffusers prefix (`text_encoder.` or `text_encoder_2.`).
 */
export function clipKeyMap(slots: ReadonlyMap<string, WeightSlot>, kohya: readonly string[], diffusers: string): Map<string, WeightSlot> {
  const map = new Map<string, WeightSlot>();
  for (const s of slots.values()) {
    const m = CLIP_MODULE.exec(s.module);
    if (!m) continue;
    const flat = `text_model_encoder_layers_${m[1]}_${m[2].replace('.', '_')}`;
    for (const k of kohya) map.set(`${k}${flat}`, s);
    map.set(`${diffusers}.${s.module}`, s);
  }
  return map;
}
