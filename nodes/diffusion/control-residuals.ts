/**
 * ControlNet residuals for the denoiser (ComfyUI comfy/controlnet.py ControlNet.get_control and
 * ControlBase.control_merge, pre_run's percent_to_sigma range; comfy/samplers.py apply_empty_x_to_equal_area
 * for `control_apply_to_uncond`). Per U-Net call of a group whose entries carry a control chain: every link
 * active at sigma runs its ControlNet on the same rows (x * c_in, timestep, cross-attention context) with
 * its hint resized to the rows' size x 8 (common_upscale nearest-exact, center crop), its outputs times its
 * strength; the chain's residuals add, and the call goes to the residual U-Net (the checkpoint's cnet/).
 */
import { commonUpscale, toChannelsFirst } from '../../imaging/resample.js';
import { Tensor } from '../../runtime/tensor.js';
import type { IoMeta } from '../../runtime/io-meta.js';
import { bindControlNetOutputs, bindUNetResiduals, describeBinding, residualMismatches, type ResidualBinding } from '../../runtime/residual-binding.js';
import type { UNetRequest } from '../../runtime/batching/unet-queue.js';
import type { CondEntry, Conditioning, ControlLink, ControlNetModel, DiffusionModel } from '../../sockets/index.js';

/** Thrown when a ControlNet cannot be applied to this model or conditioning. */
export class ControlNetError extends Error {
  override readonly name = 'ControlNetError';
}

/** ComfyUI's ControlNet compression_ratio: the hint is the latent size times 8. */
const HINT_SCALE = 8;

/** Every link of a chain, newest first. */
function chainOf(link: ControlLink | undefined): ControlLink[] {
  const out: ControlLink[] = [];
  for (let l = link; l; l = l.previous) out.push(l);
  return out;
}

/**
 * ComfyUI apply_empty_x_to_equal_area(positive entries with control_apply_to_uncond, negative, 'control'):
 * when no negative entry without an area has a control, the controls of those positive entries are copied
 * onto the negative entries without an area, round robin.
 */
export function applyControlToUncond(positive: Conditioning, negative: Conditioning): Conditioning {
  const controls = positive.filter((e) => e.controlApplyToUncond && e.area === undefined && e.control).map((e) => e.control!);
  if (controls.length === 0) return negative;
  const open = negative.map((e, i) => ({ e, i })).filter(({ e }) => e.area === undefined);
  if (open.some(({ e }) => e.control) || open.length === 0) return negative;
  const out: CondEntry[] = [...negative];
  controls.forEach((control, x) => {
    const { e, i } = open[x % open.length]!;
    out[i] = { ...e, control };
  });
  return out;
}

/** What a controlled U-Net call needs besides the plain request. */
export interface ControlCall {
  readonly request: UNetRequest;
  /** The rows' cross-attention context as a plain tensor (the ControlNet's session cannot read the U-Net's kept copy). */
  readonly embeds: Tensor;
  /** Conditioning entries in the call (cond then uncond jobs): the hint repeats per entry (ComfyUI batched_number). */
  readonly entries: number;
}

interface Bound {
  readonly unet: ResidualBinding;
  readonly unetInputs: readonly IoMeta[];
  readonly nets: Map<ControlNetModel, { binding: ResidualBinding; inputs: readonly IoMeta[]; batchable: boolean }>;
}

export interface ControlRunner {
  /** The links of `link`'s chain that apply at sigma (ComfyUI: an inactive link defers to its previous one). */
  active(link: ControlLink | undefined, sigma: number): ControlLink[];
  /** One U-Net call with the residuals of `links` added, through the residual U-Net. */
  submit(links: readonly ControlLink[], call: ControlCall): Promise<Tensor>;
  /**
   * Opens the sessions and checks that every ControlNet fits the residual U-Net; awaited before the first
   * U-Net call of a run, so a misfit is reported before sampling even when the control starts late.
   */
  ready(): Promise<void>;
  /** Frees the hints kept in the ControlNets' workers; call when the sampling run ends. */
  release(): Promise<void>;
}

/**
 * The ControlNet side of one sampling run. Throws ControlNetError before sampling when an entry carries a
 * control and the model has no residual U-Net, or a ControlNet is made for another cross-attention width.
 */
export function makeControlRunner(model: DiffusionModel, entries: readonly CondEntry[]): ControlRunner | undefined {
  const links = new Set<ControlLink>();
  for (const e of entries) for (const l of chainOf(e.control)) links.add(l);
  if (links.size === 0) return undefined;
  const names = [...new Set([...links].map((l) => `'${l.net.name}'`))].join(', ');
  const unet = model.residualUnet;
  if (!unet) {
    throw new ControlNetError(`ControlNet ${names} is applied, but checkpoint '${model.name}' has no residual U-Net (cnet/model.onnx: the U-Net exported with ControlNet residual inputs); see docs/models.md`);
  }
  for (const e of entries) {
    const width = e.embeds.shape[2];
    for (const l of chainOf(e.control)) {
      const want = l.net.crossAttentionDim;
      if (want !== undefined && want !== width) {
        throw new ControlNetError(`ControlNet '${l.net.name}' is made for cross-attention width ${want}${want === 2048 ? ' (SDXL)' : want === 768 ? ' (SD1.x)' : ''} but the conditioning of '${model.name}' has width ${width}`);
      }
    }
  }
  const ranges = new Map<ControlLink, { high: number; low: number }>();
  for (const l of links) ranges.set(l, { high: model.sampling.percentToSigma(l.start), low: model.sampling.percentToSigma(l.end) });

  let bound: Promise<Bound> | undefined;
  const bind = () =>
    (bound ??= (async () => {
      const us = await unet.session.get();
      const ub = bindUNetResiduals(us.inputs);
      if (!ub) throw new ControlNetError(`checkpoint '${model.name}': cnet/ declares no residual inputs (only ${us.inputs.map((m) => m.name).join(', ')})`);
      const nets = new Map<ControlNetModel, { binding: ResidualBinding; inputs: readonly IoMeta[]; batchable: boolean }>();
      for (const l of links) {
        if (nets.has(l.net)) continue;
        const s = await l.net.session.get();
        const takes = new Set(s.inputs.map((m) => m.name));
        if (!takes.has('sample') || !takes.has('controlnet_cond')) {
          const adapter = s.inputs.length === 1 ? ' (an image-only model such as a T2I-Adapter, which latentflow does not support: docs/diffusion.md)' : '';
          throw new ControlNetError(`'${l.net.name}' is not a ControlNet: it takes ${[...takes].join(', ')}, not sample + controlnet_cond${adapter}`);
        }
        const b = bindControlNetOutputs(s.outputs);
        const problems = residualMismatches(b, s.outputs, ub, us.inputs);
        if (problems.length > 0) {
          throw new ControlNetError(`ControlNet '${l.net.name}' does not fit the residual U-Net of '${model.name}' (${describeBinding(ub)}): ${problems.join('; ')}`);
        }
        nets.set(l.net, { binding: b, inputs: s.inputs, batchable: s.inputs.every((m) => BATCHABLE.has(m.name)) && takes.has('timestep') && takes.has('encoder_hidden_states') });
      }
      return { unet: ub, unetInputs: us.inputs, nets };
    })());

  const hints = new Map<ControlLink, Map<string, Tensor>>();
  // The hint is the same every step: kept in the ControlNet's worker once per shape, sent by handle.
  const kept = new Map<Tensor, { queue: ControlNetModel['queue']; hint: Promise<Tensor> }>();
  let released = false;
  const keptHint = (l: ControlLink, hint: Tensor): Promise<Tensor> => {
    let k = kept.get(hint);
    if (!k) kept.set(hint, (k = { queue: l.net.queue, hint: released ? Promise.resolve(hint) : l.net.queue.keep(hint).catch(() => hint) }));
    return k.hint;
  };
  const hintFor = (l: ControlLink, rows: number, entriesInCall: number, h: number, w: number): Tensor => {
    let byShape = hints.get(l);
    if (!byShape) hints.set(l, (byShape = new Map()));
    const key = `${rows}/${entriesInCall}/${h}x${w}`;
    const hit = byShape.get(key);
    if (hit) return hit;
    const resized = commonUpscale(toChannelsFirst(l.hint), w * HINT_SCALE, h * HINT_SCALE, 'nearest-exact', 'center');
    const t = broadcastHint(resized, rows, entriesInCall);
    byShape.set(key, t);
    return t;
  };

  const shapes = new Map<ControlNetModel, (readonly number[])[]>();
  const active = (link: ControlLink | undefined, sigma: number): ControlLink[] =>
    chainOf(link).filter((l) => {
      const r = ranges.get(l)!;
      return !(sigma > r.high || sigma < r.low);
    });

  const submit = async (chain: readonly ControlLink[], call: ControlCall): Promise<Tensor> => {
    const b = await bind();
    const { request } = call;
    const [rows, , h, w] = request.sample.shape;
    let sums: Float32Array[] | undefined;
    for (const l of chain) {
      const net = b.nets.get(l.net)!;
      const hint = hintFor(l, rows, call.entries, h, w);
      const out = net.batchable ? await batchedControl(l, net.inputs, request, call.embeds, await keptHint(l, hint)) : await directControl(l, net.inputs, request, call.embeds, hint);
      const names = [...net.binding.down, net.binding.mid];
      // The outputs are this call's own buffers (transferred from the worker): scaled in place.
      const scaled = names.map((n) => {
        const t = out[n];
        if (!t || t.dtype !== 'float32') throw new ControlNetError(`ControlNet '${l.net.name}' returned no float output '${n}'`);
        const v = t.data as Float32Array;
        if (l.strength !== 1) for (let i = 0; i < v.length; i++) v[i] = v[i]! * l.strength;
        return v;
      });
      if (!sums) sums = scaled;
      else for (let k = 0; k < sums.length; k++) for (let i = 0; i < sums[k]!.length; i++) sums[k]![i] = scaled[k]![i]! + sums[k]![i]!;
      if (!shapes.has(l.net)) shapes.set(l.net, names.map((n) => out[n]!.shape));
    }
    const outShapes = shapes.get(chain[0]!.net)!;
    const residuals: Record<string, Tensor> = {};
    [...b.unet.down, b.unet.mid].forEach((name, k) => {
      residuals[name] = new Tensor('float32', sums![k]!, outShapes[k]!);
    });
    const declared = new Set(b.unetInputs.map((m) => m.name));
    const extra: Record<string, Tensor> = {};
    for (const [k, t] of Object.entries(request.extra ?? {})) if (declared.has(k)) extra[k] = t;
    return unet.submit({ ...request, encoderHiddenStates: call.embeds, extra: { ...extra, ...residuals }, handOver: Object.keys(residuals) });
  };
  const release = async (): Promise<void> => {
    released = true;
    const all = [...kept.values()];
    kept.clear();
    await Promise.all(all.map(async (k) => k.queue.release(await k.hint)));
  };
  return { active, submit, release, ready: async () => void (await bind()) };
}

/**
 * ComfyUI broadcast_image_to: a one-image hint serves every row; a batch of hints is cut or tiled to the
 * rows of one entry and repeated for each entry of the call.
 */
function broadcastHint(hint: Tensor, rows: number, entries: number): Tensor {
  const [n, c, H, W] = hint.shape;
  const plane = c * H * W;
  const perEntry = n === 1 ? rows : Math.max(1, Math.floor(rows / entries));
  const out = new Float32Array(rows * plane);
  for (let r = 0; r < rows; r++) {
    const src = n === 1 ? 0 : (r % perEntry) % n;
    out.set(hint.data.subarray(src * plane, (src + 1) * plane) as Float32Array, r * plane);
  }
  return new Tensor('float32', out, [rows, c, H, W]);
}

/** Inputs the ControlNet's batching point can feed: per-row tensors only (a scalar conditioning_scale is not). */
const BATCHABLE = new Set(['sample', 'timestep', 'encoder_hidden_states', 'controlnet_cond', 'text_embeds', 'time_ids']);

/**
 * Through the ControlNet's batching point, so concurrent jobs' controlled steps share one call. No lane: the
 * job's steps are counted by its U-Net calls, and requests of jobs resumed together still meet here.
 */
async function batchedControl(l: ControlLink, inputs: readonly IoMeta[], r: UNetRequest, embeds: Tensor, hint: Tensor): Promise<Readonly<Record<string, Tensor>>> {
  const feeds = controlFeeds(l, inputs, r, embeds, hint);
  const { sample, timestep: _t, encoder_hidden_states: _e, ...extra } = feeds;
  return l.net.queue.submitAll({ sample: sample!, timesteps: r.timesteps, encoderHiddenStates: embeds, extra, signal: r.signal });
}

async function directControl(l: ControlLink, inputs: readonly IoMeta[], r: UNetRequest, embeds: Tensor, hint: Tensor): Promise<Readonly<Record<string, Tensor>>> {
  const s = await l.net.session.get();
  return s.run(controlFeeds(l, inputs, r, embeds, hint), { signal: r.signal }) as Promise<Readonly<Record<string, Tensor>>>;
}

/** The ControlNet's feeds by what it declares: the U-Net call's rows plus the hint. */
function controlFeeds(l: ControlLink, inputs: readonly IoMeta[], r: UNetRequest, embeds: Tensor, hint: Tensor): Record<string, Tensor> {
  const rows = r.sample.shape[0];
  const feeds: Record<string, Tensor> = {};
  for (const m of inputs) {
    switch (m.name) {
      case 'sample': feeds.sample = r.sample; break;
      case 'timestep': feeds.timestep = new Tensor('float32', Float32Array.from(r.timesteps), [rows]); break;
      case 'encoder_hidden_states': feeds.encoder_hidden_states = embeds; break;
      case 'controlnet_cond': {
        const want = m.shapeKnown ? m.shape[1] : undefined;
        if (typeof want === 'number' && want !== hint.shape[1]) {
          throw new ControlNetError(`ControlNet '${l.net.name}' takes a ${want}-channel control image but got ${hint.shape[1]} channels`);
        }
        feeds.controlnet_cond = hint;
        break;
      }
      // Strength is applied to the outputs (ComfyUI control_merge), so the exported scale stays 1.
      case 'conditioning_scale': feeds.conditioning_scale = new Tensor('float32', Float32Array.of(1), []); break;
      default: {
        const t = r.extra?.[m.name];
        if (!t) throw new ControlNetError(`ControlNet '${l.net.name}' takes '${m.name}', which this U-Net call does not provide`);
        feeds[m.name] = t;
      }
    }
  }
  return feeds;
}
