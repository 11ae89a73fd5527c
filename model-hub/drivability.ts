/**
 * Whether latentflow's nodes can drive a session, judged from its declared inputs and outputs the way
 * the nodes feed it (nodes/diffusion/unet-queue.ts, clip-text.ts, vae-codec.ts, nodes/clip/embed.ts,
 * classifier.ts) and the way the runtime adapts feeds (runtime/feeds.ts: float32 <-> float16,
 * int32 <-> int64, timestep as [], [1] or [B]; the first wanted output falls back to output 0).
 */
import type { ElementType, IoMeta } from '../runtime/io-meta.js';
import { describeMeta } from '../runtime/io-meta.js';
import { bindControlNetOutputs, bindUNetResiduals, describeBinding, type ResidualBinding } from '../runtime/residual-binding.js';

export const COMPONENT_ROLES = [
  'unet', 'text_encoder', 'text_encoder_2', 'vae_encoder', 'vae_decoder', 'clip_text', 'clip_vision', 'clip_combined', 'classifier',
  'unet_residual', 'controlnet',
] as const;
export type ComponentRole = (typeof COMPONENT_ROLES)[number];

export interface Signature {
  readonly inputs: readonly IoMeta[];
  readonly outputs: readonly IoMeta[];
}

export interface Drivability {
  readonly ok: boolean;
  /** Why latentflow cannot drive it (empty when ok). */
  readonly problems: readonly string[];
  /** Facts worth knowing that do not stop it (fallbacks used, variant detected). */
  readonly notes: readonly string[];
}

const FLOAT: readonly ElementType[] = ['float32', 'float16'];
const INT: readonly ElementType[] = ['int32', 'int64'];
/** Element types the runtime can convert latentflow's float32/int32 feeds into. */
const FEEDABLE: readonly ElementType[] = ['float32', 'float16', 'int32', 'int64', 'uint8', 'bool'];

class Checker {
  readonly problems: string[] = [];
  readonly notes: string[] = [];
  constructor(readonly sig: Signature) {}

  input(name: string): IoMeta | undefined {
    return this.sig.inputs.find((m) => m.name === name);
  }

  has(name: string): boolean {
    return this.input(name) !== undefined;
  }

  require(name: string, types: readonly ElementType[], rank?: number): IoMeta | undefined {
    const m = this.input(name);
    if (!m) {
      this.problems.push(`no '${name}' input (inputs: ${this.sig.inputs.map((i) => i.name).join(', ') || 'none'})`);
      return undefined;
    }
    this.typed(m, types, rank);
    return m;
  }

  typed(m: IoMeta, types: readonly ElementType[], rank?: number): void {
    if (!types.includes(m.dtype)) this.problems.push(`input ${describeMeta(m)}: expected ${types.join(' or ')}`);
    if (rank !== undefined && m.shapeKnown && m.shape.length !== rank) this.problems.push(`input ${describeMeta(m)}: expected rank ${rank}`);
  }

  onlyInputs(allowed: readonly string[], why: string): void {
    const extra = this.sig.inputs.filter((m) => !allowed.includes(m.name)).map((m) => m.name);
    if (extra.length) this.problems.push(`unsupported input(s) ${extra.join(', ')}: ${why}`);
  }

  singleInput(types: readonly ElementType[], rank: number): void {
    if (this.sig.inputs.length !== 1) {
      this.problems.push(`expected one input, found ${this.sig.inputs.length} (${this.sig.inputs.map((m) => m.name).join(', ')})`);
      return;
    }
    this.typed(this.sig.inputs[0], types, rank);
  }

  /** The output latentflow asks for by name, else output 0 (the runtime's fallback), checked for rank. */
  output(names: readonly string[], rank?: number): IoMeta | undefined {
    const hit = this.sig.outputs.find((o) => names.includes(o.name));
    const used = hit ?? this.sig.outputs[0];
    if (!used) {
      this.problems.push('the model declares no outputs');
      return undefined;
    }
    if (!FLOAT.includes(used.dtype)) this.problems.push(`output ${describeMeta(used)}: expected a float tensor`);
    if (rank !== undefined && used.shapeKnown && used.shape.length !== rank) {
      this.problems.push(hit ? `output ${describeMeta(used)}: expected rank ${rank}` : `unsupported output names: none of ${names.join(', ')}, and output 0 (${describeMeta(used)}) is not rank ${rank}`);
    } else if (!hit) {
      this.notes.push(`no ${names.join('/')} output; output 0 '${used.name}' is used`);
    }
    return used;
  }

  result(): Drivability {
    for (const m of this.sig.inputs) {
      if (!FEEDABLE.includes(m.dtype) && !this.problems.some((p) => p.includes(`input ${m.name}:`))) {
        this.problems.push(`input ${describeMeta(m)}: latentflow cannot feed ${m.dtype}`);
      }
    }
    return { ok: this.problems.length === 0, problems: this.problems, notes: this.notes };
  }
}

const UNET_INPUTS = ['sample', 'timestep', 'encoder_hidden_states', 'timestep_cond'];

function unet(c: Checker): void {
  c.require('sample', FLOAT, 4);
  const t = c.require('timestep', [...FLOAT, ...INT]);
  if (t && t.shapeKnown && t.shape.length > 1) c.problems.push(`input ${describeMeta(t)}: a timestep must be a scalar or a vector`);
  c.require('encoder_hidden_states', FLOAT, 3);
  const sdxl = sdxlUnet(c);
  const rest = c.sig.inputs.filter((m) => !UNET_INPUTS.includes(m.name) && !sdxl.includes(m.name)).map((m) => m.name);
  if (rest.length) c.problems.push(`unsupported input(s) ${rest.join(', ')}: latentflow feeds sample, timestep, encoder_hidden_states (+ timestep_cond for LCM, text_embeds + time_ids for SDXL)`);
  const cond = c.input('timestep_cond');
  if (cond) {
    c.typed(cond, FLOAT, 2);
    c.notes.push(`LCM: timestep_cond ${describeMeta(cond)} gets the guidance embedding`);
  }
  c.output(['out_sample', 'latent'], 4);
}

/**
 * SDXL's added conditioning (nodes/diffusion/unet-extras.ts): text_embeds [B, pooled] from clip_g and time_ids
 * [B,6] (base: size, crop, target) or [B,5] (refiner: size, crop, aesthetic score). Returns the names it covers.
 */
function sdxlUnet(c: Checker): string[] {
  const pooled = c.input('text_embeds');
  const ids = c.input('time_ids');
  if (!pooled && !ids) return [];
  if (!pooled || !ids) {
    c.problems.push(`SDXL U-Net: takes ${pooled ? 'text_embeds' : 'time_ids'} without ${pooled ? 'time_ids' : 'text_embeds'}; latentflow feeds both or neither`);
    return ['text_embeds', 'time_ids'];
  }
  c.typed(pooled, FLOAT, 2);
  c.typed(ids, FLOAT, 2);
  const n = ids.shapeKnown ? ids.shape[1] : undefined;
  if (typeof n === 'number' && n !== 5 && n !== 6) c.problems.push(`input ${describeMeta(ids)}: SDXL time_ids have 6 values (base) or 5 (refiner)`);
  else c.notes.push(n === 5 ? 'SDXL refiner: text_embeds + time_ids [B,5] (size, crop, aesthetic score)' : 'SDXL: text_embeds + time_ids [B,6] (size, crop, target size)');
  return ['text_embeds', 'time_ids'];
}

/** SDXL's towers are read at the penultimate layer, which only `hidden_states.N` outputs give. */
function hiddenStates(c: Checker, role: string): void {
  const n = c.sig.outputs.filter((o) => /^hidden_states\.\d+$/.test(o.name)).length;
  if (n < 2) c.problems.push(`${role}: no hidden_states.N outputs (only ${c.sig.outputs.map((o) => o.name).join(', ')}); SDXL reads the penultimate layer: export with output_hidden_states, as optimum does for SDXL`);
}

/** Binds residuals with `bind`, recording the rule used as a note or the failure as a problem. */
function residuals(c: Checker, bind: () => ResidualBinding | undefined): ResidualBinding | undefined {
  try {
    const b = bind();
    if (b) c.notes.push(`ControlNet residuals: ${describeBinding(b)}`);
    else c.problems.push('declares no ControlNet residual inputs (down_block_* + mid_block_additional_residual)');
    return b;
  } catch (e) {
    c.problems.push(e instanceof Error ? e.message : String(e));
    return undefined;
  }
}

/** The checkpoint's cnet/: a U-Net (checked as one) whose extra inputs are the residuals. */
function residualUnet(c: Checker): void {
  const b = residuals(c, () => bindUNetResiduals(c.sig.inputs));
  const bound = new Set(b ? [...b.down, b.mid] : []);
  const plain = new Checker({ inputs: c.sig.inputs.filter((m) => !bound.has(m.name)), outputs: c.sig.outputs });
  unet(plain);
  c.problems.push(...plain.problems);
  c.notes.push(...plain.notes);
}

/** A ControlNet: the U-Net's inputs plus controlnet_cond (pixels), residuals out. */
function controlNet(c: Checker): void {
  c.require('sample', FLOAT, 4);
  c.require('timestep', [...FLOAT, ...INT]);
  c.require('encoder_hidden_states', FLOAT, 3);
  c.require('controlnet_cond', FLOAT, 4);
  residuals(c, () => bindControlNetOutputs(c.sig.outputs));
}

function textEncoder(c: Checker): void {
  c.require('input_ids', INT, 2);
  c.onlyInputs(['input_ids', 'attention_mask'], 'the text encode feeds input_ids (and attention_mask) only');
  const hidden = c.sig.outputs.find((o) => o.name === 'last_hidden_state' || o.name === 'text_embeddings' || /^hidden_states\.\d+$/.test(o.name));
  if (hidden) {
    if (hidden.shapeKnown && hidden.shape.length !== 3) c.problems.push(`output ${describeMeta(hidden)}: expected rank 3 [B,77,dim]`);
  } else {
    c.output(['last_hidden_state', 'text_embeddings'], 3);
  }
}

function clipText(c: Checker): void {
  c.require('input_ids', INT, 2);
  c.onlyInputs(['input_ids', 'attention_mask'], 'the CLIP text tower is fed input_ids (and attention_mask) only');
  c.output(['text_embeds', 'pooler_output'], 2);
}

/** Checks one component's signature against how latentflow drives its role. */
export function checkComponent(role: ComponentRole, sig: Signature, opts: { labels?: number; sdxl?: boolean } = {}): Drivability {
  const c = new Checker(sig);
  switch (role) {
    case 'unet':
      unet(c);
      break;
    case 'text_encoder':
      textEncoder(c);
      if (opts.sdxl) hiddenStates(c, 'SDXL text encoder (CLIP-L)');
      break;
    case 'text_encoder_2':
      textEncoder(c);
      hiddenStates(c, 'SDXL text encoder 2 (OpenCLIP bigG)');
      if (!c.sig.outputs.some((o) => o.name === 'text_embeds')) c.problems.push('SDXL text encoder 2: no text_embeds output (the projected pooled vector the U-Net takes)');
      break;
    case 'vae_encoder':
      c.singleInput(FLOAT, 4);
      c.output(['latent_parameters', 'latent_sample', 'latent'], 4);
      break;
    case 'vae_decoder':
      c.singleInput(FLOAT, 4);
      c.output(['sample', 'images'], 4);
      break;
    case 'clip_text':
      clipText(c);
      break;
    case 'clip_vision':
      c.singleInput(FLOAT, 4);
      c.output(['image_embeds', 'embeds'], 2);
      break;
    case 'unet_residual':
      residualUnet(c);
      break;
    case 'controlnet':
      controlNet(c);
      break;
    case 'clip_combined':
      c.notes.push('the combined model is not run by the nodes (they use text_model and vision_model)');
      break;
    case 'classifier': {
      c.singleInput(FLOAT, 4);
      const out = c.output(['logits', 'output'], 2);
      const n = out?.shape[1];
      if (opts.labels !== undefined && typeof n === 'number' && n !== opts.labels) {
        c.problems.push(`labels.txt has ${opts.labels} labels but the model outputs ${n} logits`);
      }
      break;
    }
  }
  return c.result();
}
