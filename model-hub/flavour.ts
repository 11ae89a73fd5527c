/**
 * A one-line description of an installed model's exporter flavour, read from its declared signatures
 * (spec/models.md, "Stable Diffusion components": what diffusers' script, optimum <=1.23 / >=1.24, Olive
 * and the onnxruntime demo each export).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Dim, IoMeta } from '../runtime/io-meta.js';
import type { ComponentRole, Signature } from './drivability.js';
import type { ModelKind } from './kinds.js';
import { bindUNetResiduals } from '../runtime/residual-binding.js';

export type Signatures = ReadonlyMap<ComponentRole, Signature>;

const input = (s: Signature | undefined, name: string): IoMeta | undefined => s?.inputs.find((m) => m.name === name);
const hasOutput = (s: Signature | undefined, name: string): boolean => s?.outputs.some((m) => m.name === name) ?? false;

function shapeLabel(m: IoMeta): string {
  if (!m.shapeKnown) return '[?]';
  if (m.shape.length === 0) return '[]';
  return `[${m.shape.map((d: Dim) => (typeof d === 'number' ? String(d) : 'B')).join(',')}]`;
}

const typeLabel = (t: string): string => (t === 'float32' ? 'float' : t);

function predictionType(dir: string): string | undefined {
  const f = path.join(dir, 'scheduler', 'scheduler_config.json');
  if (!existsSync(f)) return undefined;
  try {
    const cfg: unknown = JSON.parse(readFileSync(f, 'utf8'));
    return typeof cfg === 'object' && cfg !== null && 'prediction_type' in cfg && typeof cfg.prediction_type === 'string' ? cfg.prediction_type : undefined;
  } catch {
    return undefined;
  }
}

/** The residual binding rule of a cnet/ U-Net, or why there is none. */
function residualRule(s: Signature): string {
  try {
    const b = bindUNetResiduals(s.inputs);
    return b ? `${b.scheme === 'order' ? 'residuals by order' : `${b.scheme} residual names`}, ${b.down.length} down + mid` : 'no residual inputs';
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

function schedulerConfig(dir: string): Record<string, unknown> {
  try {
    const cfg: unknown = JSON.parse(readFileSync(path.join(dir, 'scheduler', 'scheduler_config.json'), 'utf8'));
    return typeof cfg === 'object' && cfg !== null ? Object.fromEntries(Object.entries(cfg)) : {};
  } catch {
    return {};
  }
}

/**
 * SDXL base, refiner (time_ids [B,5], or no text_encoder/) or Turbo (same signature as the base; its scheduler
 * config is stabilityai/sdxl-turbo's EulerAncestralDiscreteScheduler with trailing timestep spacing).
 */
function sdxlVariant(sigs: Signatures, dir: string): string {
  const ids = input(sigs.get('unet'), 'time_ids');
  if ((ids?.shapeKnown && ids.shape[1] === 5) || !sigs.has('text_encoder')) return 'SDXL refiner';
  const s = schedulerConfig(dir);
  if (s.timestep_spacing === 'trailing' && s._class_name === 'EulerAncestralDiscreteScheduler') return 'SDXL Turbo';
  return 'SDXL base';
}

function checkpointFlavour(sigs: Signatures, dir: string): string {
  const unet = sigs.get('unet');
  const te = sigs.get('text_encoder') ?? sigs.get('text_encoder_2');
  const t = input(unet, 'timestep');
  const ids = input(te, 'input_ids');
  const fp16 = input(unet, 'sample')?.dtype === 'float16';
  let exporter: string;
  if (hasOutput(unet, 'latent') && !hasOutput(unet, 'out_sample')) exporter = 'onnxruntime demo';
  else if (fp16 && t?.dtype === 'float16') exporter = 'olive';
  else if (t?.dtype === 'int64') exporter = 'optimum <=1.23';
  else if (t && t.shapeKnown && t.shape.length === 0) exporter = 'optimum >=1.24';
  else if (ids?.dtype === 'int64' || hasOutput(sigs.get('vae_encoder'), 'latent_parameters')) exporter = 'optimum';
  else exporter = 'diffusers-onnx';
  const details = [ids ? `${ids.dtype} ids` : undefined, t ? `${typeLabel(t.dtype)} timestep ${shapeLabel(t)}` : 'no timestep input'].filter(Boolean);
  const tags: string[] = [];
  if (input(unet, 'timestep_cond')) tags.push('LCM');
  if (input(unet, 'text_embeds') || sigs.has('text_encoder_2')) tags.push(sdxlVariant(sigs, dir));
  if (predictionType(dir) === 'v_prediction') tags.push('v-prediction');
  if (hasOutput(sigs.get('vae_encoder'), 'latent_parameters')) tags.push('latent_parameters VAE');
  const cnet = sigs.get('unet_residual');
  if (cnet) tags.push(`ControlNet-ready cnet/ (${residualRule(cnet)})`);
  return `${exporter} ${fp16 ? 'fp16' : 'fp32'} (${details.join(', ')})${tags.length ? `, ${tags.join(', ')}` : ''}`;
}

function embedDim(s: Signature | undefined, name: string): number | undefined {
  const o = s?.outputs.find((m) => m.name === name);
  const d = o?.shape[o.shape.length - 1];
  return typeof d === 'number' ? d : undefined;
}

function clipFlavour(sigs: Signatures): string {
  const parts = [sigs.has('clip_text') ? 'text' : undefined, sigs.has('clip_vision') ? 'vision' : undefined, sigs.has('clip_combined') ? 'combined' : undefined];
  const vision = sigs.get('clip_vision');
  const precision = vision?.inputs[0]?.dtype === 'float16' ? 'fp16' : 'fp32';
  const dim = embedDim(vision, 'image_embeds');
  return `transformers.js clip (${parts.filter(Boolean).join('+')}, ${precision}${dim ? `, ${dim}-d` : ''})`;
}

export function describeFlavour(kind: ModelKind, sigs: Signatures, dir: string): string {
  switch (kind) {
    case 'checkpoint':
      return checkpointFlavour(sigs, dir);
    case 'clip_vision':
      return clipFlavour(sigs);
    case 'classifier': {
      const s = sigs.get('classifier');
      const out = s?.outputs[0];
      const n = out?.shape[out.shape.length - 1];
      return `onnx classifier (${typeof n === 'number' ? `${n} classes, ` : ''}${s?.inputs[0]?.dtype === 'float16' ? 'fp16' : 'fp32'})`;
    }
    case 'controlnet': {
      const s = sigs.get('controlnet');
      const hint = s?.inputs.find((m) => m.name === 'controlnet_cond');
      return `onnx controlnet (${s?.outputs.length ?? 0} residuals${hint ? `, hint ${shapeLabel(hint)}` : ''}, ${s?.inputs[0]?.dtype === 'float16' ? 'fp16' : 'fp32'})`;
    }
    case 'vae':
      return `standalone vae (${[sigs.has('vae_encoder') ? 'encoder' : '', sigs.has('vae_decoder') ? 'decoder' : ''].filter(Boolean).join('+')})`;
  }
}
