/**
 * The U-Net's inputs beyond sample / timestep / encoder_hidden_states, built by what the U-Net declares: the
 * one place a U-Net feed gains inputs. LCM's `timestep_cond` (diffusers get_guidance_scale_embedding) and
 * SDXL's `text_embeds` + `time_ids` (ComfyUI comfy/model_base.py SDXL.encode_adm and SDXLRefiner.encode_adm;
 * comfy/samplers.py encode_model_conds, which fills width/height from the latent size x 8 and the prompt type
 * per side). The exported SDXL U-Net embeds each time id itself (diffusers add_time_proj), so the raw numbers
 * go in. Rows follow the group's layout: each job's entry repeated for the latent's B rows, job after job.
 */
import { Tensor } from '../../runtime/tensor.js';
import type { IoMeta } from '../../runtime/io-meta.js';
import type { CondEntry, DiffusionModel } from '../../sockets/index.js';
import { ConditioningError, type Group } from './denoiser-plan.js';

/** The extra per-row inputs for a group's call of `rows` rows (undefined when the U-Net takes none). */
export type ExtraInputs = (group: Group, rows: number) => Readonly<Record<string, Tensor>> | undefined;

/** NOTE: ComfyUI's default aesthetic scores (SDXLRefiner.encode_adm): 6 for positive, 2.5 for negative prompts. */
const ASCORE_POSITIVE = 6;
const ASCORE_NEGATIVE = 2.5;
/** NOTE: encode_model_conds' default size is the noise size x 8 whatever the VAE ("TODO: 8 multiple should be set by the model"). */
const SIZE_PER_CELL = 8;

/** What the cross-attention width of a conditioning usually means, for error messages. */
export function widthLabel(width: number): string {
  const known: Record<number, string> = { 768: 'SD 1.x', 1024: 'SD 2.x', 2048: 'SDXL base', 1280: 'SDXL refiner' };
  return known[width] ? ` (${known[width]})` : '';
}

function lastDim(m: IoMeta | undefined): number | undefined {
  const d = m?.shapeKnown ? m.shape[m.shape.length - 1] : undefined;
  return typeof d === 'number' ? d : undefined;
}

/** diffusers get_guidance_scale_embedding: sin/cos features of w * 1000 (LCM `timestep_cond`). */
export function guidanceEmbedding(w: number, dim: number): Float32Array {
  const half = Math.floor(dim / 2);
  const out = new Float32Array(dim);
  const k = Math.log(10000) / (half - 1);
  for (let i = 0; i < half; i++) {
    const a = w * 1000 * Math.exp(-k * i);
    out[i] = Math.sin(a);
    out[half + i] = Math.cos(a);
  }
  return out;
}

/** SDXL time ids of one entry on one side (0 = positive, 1 = negative) for an H x W latent. */
export function timeIds(e: CondEntry, kind: 0 | 1, H: number, W: number, count: number): number[] {
  const s = e.size ?? {};
  const width = s.width ?? W * SIZE_PER_CELL;
  const height = s.height ?? H * SIZE_PER_CELL;
  const cropW = s.cropW ?? 0;
  const cropH = s.cropH ?? 0;
  if (count === 5) return [height, width, cropH, cropW, s.aestheticScore ?? (kind === 1 ? ASCORE_NEGATIVE : ASCORE_POSITIVE)];
  return [height, width, cropH, cropW, s.targetHeight ?? height, s.targetWidth ?? width];
}

/**
 * Reads the U-Net's declared inputs once per sampling run and returns the builder of its extra inputs;
 * checks every entry against the U-Net first (cross-attention width, pooled width), so SD 1.x conditioning
 * on an SDXL U-Net, or base conditioning on the refiner, fails before the first step with what is wrong.
 */
export async function extraInputsFor(model: DiffusionModel, entries: readonly CondEntry[]): Promise<ExtraInputs> {
  const inputs = (await model.unet.session.get()).inputs;
  const find = (name: string) => inputs.find((m) => m.name === name);
  const ctxWidth = lastDim(find('encoder_hidden_states'));
  const textEmbeds = find('text_embeds');
  const timeIdsMeta = find('time_ids');
  const pooledWidth = lastDim(textEmbeds);
  const idCount = lastDim(timeIdsMeta) ?? 6;
  const kind = textEmbeds ? (idCount === 5 ? 'SDXL refiner U-Net' : 'SDXL U-Net') : 'U-Net';
  for (const e of entries) {
    const w = e.embeds.shape[2]!;
    if (ctxWidth !== undefined && w !== ctxWidth) {
      throw new ConditioningError(`the ${kind} of '${model.name}' takes conditioning ${ctxWidth} wide${widthLabel(ctxWidth)}, but got conditioning ${w} wide${widthLabel(w)}: encode the prompt with this checkpoint's CLIP`);
    }
    if (!textEmbeds) continue;
    if (!e.pooled) throw new ConditioningError(`the ${kind} of '${model.name}' needs the pooled text output (text_embeds), but a conditioning entry has none: encode the prompt with this checkpoint's CLIP`);
    const p = e.pooled.shape[e.pooled.shape.length - 1]!;
    if (pooledWidth !== undefined && p !== pooledWidth) {
      throw new ConditioningError(`the ${kind} of '${model.name}' takes a pooled text output ${pooledWidth} wide, but got one ${p} wide${p === 768 ? ' (SD 1.x CLIP-L)' : ''}: encode the prompt with this checkpoint's CLIP`);
    }
  }
  const lcmDim = find('timestep_cond') ? (lastDim(find('timestep_cond')) ?? 256) : undefined;
  const cache = new WeakMap<Group, { rows: number; extras: Record<string, Tensor> }>();
  return (group, rows) => {
    if (lcmDim === undefined && !textEmbeds) return undefined;
    const hit = cache.get(group);
    if (hit && hit.rows === rows) return hit.extras;
    const extras: Record<string, Tensor> = {};
    if (lcmDim !== undefined) extras.timestep_cond = repeatRows(guidanceEmbedding(model.lcmGuidance - 1, lcmDim), rows);
    if (textEmbeds) {
      const per = rows / group.jobs.length;
      const [H, W] = group.latentSize;
      const pooled: Float32Array[] = [];
      const ids: number[] = [];
      for (const j of group.jobs) {
        const t = timeIds(j.entry, j.kind, H, W, idCount);
        for (let b = 0; b < per; b++) {
          pooled.push(j.entry.pooled!.data.subarray(0, pooledWidth ?? j.entry.pooled!.size) as Float32Array);
          ids.push(...t);
        }
      }
      const width = pooled[0]!.length;
      const flat = new Float32Array(rows * width);
      pooled.forEach((p, r) => flat.set(p, r * width));
      extras.text_embeds = new Tensor('float32', flat, [rows, width]);
      if (timeIdsMeta) extras.time_ids = new Tensor('float32', Float32Array.from(ids), [rows, idCount]);
    }
    cache.set(group, { rows, extras });
    return extras;
  };
}

function repeatRows(row: Float32Array, rows: number): Tensor {
  const out = new Float32Array(row.length * rows);
  for (let r = 0; r < rows; r++) out.set(row, r * row.length);
  return new Tensor('float32', out, [rows, row.length]);
}
