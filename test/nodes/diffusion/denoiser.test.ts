import { describe, expect, it } from 'vitest';
import { Tensor, type DType } from '../../../runtime/tensor.js';
import type { IoMeta, TensorMap } from '../../../runtime/io-meta.js';
import { ResidentTensor, RowStack, type ResidentHost } from '../../../runtime/resident.js';
import type { SessionFeeds } from '../../../runtime/send-feeds.js';
import { ModelSampling, makeBetas, sigmasFromBetas } from '../../../sampling/model-sampling.js';
import { LatentPreviewer, SD15_RGB_PROJECTION } from '../../../imaging/latent-preview.js';
import { makeDenoiser } from '../../../nodes/diffusion/denoiser.js';
import { sampleLatent } from '../../../nodes/diffusion/sample.js';
import { SessionHandle, type DiffusionSession } from '../../../runtime/session-handle.js';
import type { CondArea, Conditioning, DiffusionModel } from '../../../sockets/index.js';
import { UNetQueue } from '../../../runtime/batching/unet-queue.js';
import type { Denoiser } from '../../../sampling/samplers/index.js';

const SEQ = 3;
const DIM = 4;

/** A non-linear U-Net stand-in whose output depends on sample, timestep and conditioning of each row. */
function unetOutput(feeds: Record<string, Tensor>): TensorMap {
  const { sample, timestep, encoder_hidden_states: ehs } = feeds;
  const rows = sample.shape[0];
  const size = sample.size / rows;
  const cond = SEQ * DIM;
  const out = new Float32Array(sample.size);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < size; i++) out[r * size + i] = Math.sin(sample.data[r * size + i] * 3 + timestep.data[r] / 100) * 0.5 + ehs.data[r * cond + (i % cond)] * 0.1;
  }
  return { out_sample: new Tensor('float32', out, sample.shape) };
}

const INPUTS: readonly IoMeta[] = [
  { name: 'sample', dtype: 'float32', shape: ['batch', 4, 'h', 'w'], shapeKnown: true },
  { name: 'timestep', dtype: 'float32', shape: ['batch'], shapeKnown: true },
  { name: 'encoder_hidden_states', dtype: 'float32', shape: ['batch', SEQ, DIM], shapeKnown: true },
];
const OUTPUTS: readonly IoMeta[] = [{ name: 'out_sample', dtype: 'float32', shape: ['batch', 4, 'h', 'w'], shapeKnown: true }];

class PlainUNet implements DiffusionSession {
  readonly inputs = INPUTS;
  readonly outputs = OUTPUTS;
  async run(feeds: Readonly<Record<string, Tensor>>): Promise<TensorMap> {
    return unetOutput({ ...feeds });
  }
}

/** Like a worker session: keeps tensors (recording keeps and drops) and records what each call was fed. */
class KeepingUNet extends PlainUNet implements ResidentHost {
  generation = 0;
  readonly kept: ResidentTensor[] = [];
  readonly dropped: number[] = [];
  readonly fed: Tensor<DType>[] = [];
  async keep(t: Tensor): Promise<ResidentTensor> {
    const r = new ResidentTensor(t, this, 0, this.kept.length + 1);
    this.kept.push(r);
    return r;
  }
  async drop(handles: number[]): Promise<void> {
    this.dropped.push(...handles);
  }
  override async run(feeds: SessionFeeds): Promise<TensorMap> {
    const plain: Record<string, Tensor> = {};
    for (const [k, f] of Object.entries(feeds)) {
      if (f instanceof RowStack || f.dtype !== 'float32' || !(f.data instanceof Float32Array)) throw new TypeError(`unexpected feed ${k}`);
      plain[k] = new Tensor('float32', f.data, f.shape);
      if (k === 'encoder_hidden_states') this.fed.push(f);
    }
    return unetOutput(plain);
  }
}

function modelOver(session: DiffusionSession, prediction: 'eps' | 'v_prediction' = 'eps'): DiffusionModel {
  const sigmas = sigmasFromBetas(makeBetas());
  return {
    name: 'fake', unet: new UNetQueue(new SessionHandle({ session: async () => session }, 'fake.onnx')),
    sampling: new ModelSampling(sigmas, { prediction }), trainingSigmas: sigmas, timestepMode: 'nearest',
    latentScale: 1, latentChannels: 4, lcmGuidance: 8.5, previewer: LatentPreviewer.fixed(SD15_RGB_PROJECTION),
  };
}

const embeds = (base: number) => Tensor.float32(Float32Array.from({ length: SEQ * DIM }, (_, i) => Math.cos(base + i)), [1, SEQ, DIM]);
const latent = (B: number, H: number, W: number) => Tensor.float32(Float32Array.from({ length: B * 4 * H * W }, (_, i) => Math.sin(i * 0.37) * 2), [B, 4, H, W]);

describe('makeDenoiser', () => {
  it('gives bitwise the same result on its plain path as the general path over full-latent areas', async () => {
    const model = modelOver(new PlainUNet());
    for (const prediction of ['eps', 'v_prediction'] as const) {
      const m = { ...model, sampling: modelOver(new PlainUNet(), prediction).sampling };
      for (const [B, H, W] of [[1, 8, 8], [2, 6, 10]]) {
        const full: CondArea = { h: H, w: W, y: 0, x: 0 };
        for (const [cfg, sc, su, withNegative] of [[7, 1, 1, true], [5.5, 0.7, 1.3, true], [1, 1, 1, true], [3, 0.8, 1, false]] as const) {
          const pos: Conditioning = [{ embeds: embeds(1), strength: sc }];
          const neg: Conditioning = [{ embeds: embeds(2), strength: su }];
          const plain = makeDenoiser({ model: m, positive: pos, negative: withNegative ? neg : undefined, cfg });
          const general = makeDenoiser({
            model: m, positive: [{ ...pos[0], area: full }], negative: withNegative ? [{ ...neg[0], area: full }] : undefined, cfg,
          });
          const x = latent(B, H, W);
          for (const sigma of [14.6, 2.1, 0.03]) {
            const a = await plain(x, sigma);
            const b = await general(x, sigma);
            expect(a.shape).toEqual(b.shape);
            expect(Array.from(a.data)).toEqual(Array.from(b.data));
          }
        }
      }
    }
  });

  it('keeps its conditioning in the U-Net worker once per run, feeds it every step and releases it', async () => {
    const unet = new KeepingUNet();
    const d = makeDenoiser({ model: modelOver(unet), positive: [{ embeds: embeds(1), strength: 1 }], negative: [{ embeds: embeds(2), strength: 1 }], cfg: 7 });
    const x = latent(1, 4, 4);
    const first = await d(x, 5);
    await d(x, 3);
    await d(x, 1);
    expect(unet.kept).toHaveLength(1);
    expect(unet.kept[0].shape).toEqual([2, SEQ, DIM]);
    expect(unet.fed).toHaveLength(3);
    expect(unet.fed.every((t) => t === unet.kept[0])).toBe(true);
    await d.release();
    expect(unet.dropped).toEqual([1]);
    // Released conditioning still works (it travels inline), with the same result.
    expect(Array.from((await d(x, 5)).data)).toEqual(Array.from(first.data));
    expect(unet.kept).toHaveLength(1);
  });

  it('sampleLatent releases the kept conditioning when the sampler fails', async () => {
    const unet = new KeepingUNet();
    const ac = new AbortController();
    const failing = new Error('sampler broke');
    const run = sampleLatent({ signal: ac.signal, progress: () => undefined, wantsPreviews: false }, {
      model: modelOver(unet), positive: [{ embeds: embeds(1), strength: 1 }], negative: [{ embeds: embeds(2), strength: 1 }], cfg: 7,
      latent: { samples: Tensor.zeros([1, 4, 4, 4]) }, sigmas: Float64Array.from([5, 1, 0]), seed: 1n,
      sampler: { name: 'failing', fn: async (denoise, x) => { await denoise(x, 5); throw failing; } },
    });
    await expect(run).rejects.toBe(failing);
    await expect.poll(() => unet.dropped).toEqual([1]);
  });

  it('applies entries only inside their timestep range (ComfyUI start/end percent), zero where no cond entry is active', async () => {
    const model = modelOver(new PlainUNet());
    const a: Conditioning = [{ embeds: embeds(1), strength: 1 }];
    const b: Conditioning = [{ embeds: embeds(5), strength: 1 }];
    const neg: Conditioning = [{ embeds: embeds(2), strength: 1 }];
    const split = makeDenoiser({ model, positive: [{ ...a[0], timestepRange: { start: 0, end: 0.5 } }, { ...b[0], timestepRange: { start: 0.5, end: 1 } }], negative: neg, cfg: 6 });
    const onlyA = makeDenoiser({ model, positive: a, negative: neg, cfg: 6 });
    const onlyB = makeDenoiser({ model, positive: b, negative: neg, cfg: 6 });
    const half = model.sampling.percentToSigma(0.5);
    const x = latent(1, 4, 4);
    const close = async (d1: typeof split, d2: typeof split, sigma: number) => {
      const [r1, r2] = [await d1(x, sigma), await d2(x, sigma)];
      Array.from(r1.data).forEach((v, i) => expect(v).toBeCloseTo(r2.data[i]!, 6));
    };
    for (const sigma of [14.6, half * 1.5]) await close(split, onlyA, sigma);
    for (const sigma of [half / 1.5, 0.03]) await close(split, onlyB, sigma);
    // At exactly sigma(0.5) both take part, averaged as two full-latent entries.
    const both = makeDenoiser({ model, positive: [a[0]!, b[0]!], negative: neg, cfg: 6 });
    await close(split, both, half);
    // No positive entry active: ComfyUI's empty sum over 1e-37 gives a cond estimate of 0.
    const late = makeDenoiser({ model, positive: [{ ...a[0], timestepRange: { start: 0.9, end: 1 } }], cfg: 1 });
    expect(Array.from((await late(x, 14.6)).data).every((v) => v === 0)).toBe(true);
  });

  it('weights a masked entry by its mask (ConditioningSetMask): blended where it is 1, absent where 0', async () => {
    const model = modelOver(new PlainUNet());
    const [H, W] = [4, 6];
    // Left half 1, right half 0, given at twice the latent size (resized bilinearly, as ComfyUI does).
    const left = Tensor.float32(Float32Array.from({ length: 8 * 12 }, (_, i) => (i % 12 < 6 ? 1 : 0)), [1, 8, 12]);
    const a: Conditioning = [{ embeds: embeds(1), strength: 1 }];
    const b: Conditioning = [{ embeds: embeds(5), strength: 1 }];
    const x = latent(1, H, W);
    const sigma = 3;
    const only = async (c: Conditioning) => (await makeDenoiser({ model, positive: c, cfg: 1 })(x, sigma)).data;
    const [da, db] = [await only(a), await only(b)];
    const masked = (toBounds: boolean) => makeDenoiser({ model, positive: [{ ...a[0]!, mask: { mask: left, strength: 1, toBounds } }, b[0]!], cfg: 1 });
    for (const toBounds of [false, true]) {
      const got = (await masked(toBounds)(x, sigma)).data;
      for (let c = 0; c < 4; c++) {
        for (let i = 0; i < H; i++) {
          for (let j = 0; j < W; j++) {
            const k = (c * H + i) * W + j;
            // Bilinear resize of the 12-wide step to 6 cells: columns 0-2 are 1, 3-5 are 0.
            const want = j < 3 ? (da[k]! + db[k]!) / 2 : db[k]!;
            expect(got[k]).toBeCloseTo(want, 5);
          }
        }
      }
    }
    // A full mask at strength 1 is the plain entry.
    const full = Tensor.float32(new Float32Array(H * W).fill(1), [1, H, W]);
    const whole = await makeDenoiser({ model, positive: [{ ...a[0]!, mask: { mask: full, strength: 1, toBounds: false } }], cfg: 1 })(x, sigma);
    expect(Array.from(whole.data)).toEqual(Array.from(da));
  });

  it("'mask bounds' runs the U-Net on the mask's box only, at least 8 x 8 cells", async () => {
    const shapes: number[][] = [];
    class Recording extends PlainUNet {
      override async run(feeds: Readonly<Record<string, Tensor>>): Promise<TensorMap> {
        shapes.push([...feeds.sample!.shape]);
        return super.run(feeds);
      }
    }
    const model = modelOver(new Recording());
    const [H, W] = [16, 20];
    const spot = (y: number, x: number) => Tensor.float32(Float32Array.from({ length: H * W }, (_, i) => (Math.floor(i / W) === y && i % W === x ? 1 : 0)), [1, H, W]);
    const run = (y: number, x: number) => makeDenoiser({ model, positive: [{ embeds: embeds(1), strength: 1, mask: { mask: spot(y, x), strength: 1, toBounds: true } }], cfg: 1 })(latent(1, H, W), 2);
    const out = (await run(3, 4)).data;
    // Outside the box nothing conditions the estimate (ComfyUI's empty sum over 1e-37: 0).
    expect(out[0]).toBe(0);
    // Near the edge the 8 x 8 box is cut off by the latent, as torch slicing cuts it.
    await run(10, 15);
    expect(shapes).toEqual([[1, 4, 8, 8], [1, 4, 6, 5]]);
  });
});

describe('makeDenoiser: the unconditional estimate for CFG++ samplers (exposeUncond)', () => {
  const pos: Conditioning = [{ embeds: embeds(1), strength: 1 }];
  const neg: Conditioning = [{ embeds: embeds(2), strength: 1 }];

  it('withUncond gives the guided estimate and, as uncond, what the negative alone would give, on the plain and the general path', async () => {
    const model = modelOver(new PlainUNet());
    const x = latent(2, 6, 6);
    const full: CondArea = { h: 6, w: 6, y: 0, x: 0 };
    for (const [p, n] of [[pos, neg], [[{ ...pos[0], area: full }], [{ ...neg[0], area: full }]]] as const) {
      const d = makeDenoiser({ model, positive: p, negative: n, cfg: 7, exposeUncond: true });
      const guided = makeDenoiser({ model, positive: p, negative: n, cfg: 7 });
      const negOnly = makeDenoiser({ model, positive: n, cfg: 7 });
      for (const sigma of [9, 0.4]) {
        const r = await d.withUncond!(x, sigma);
        expect(Array.from(r.denoised.data)).toEqual(Array.from((await guided(x, sigma)).data));
        expect(Array.from(r.uncond.data)).toEqual(Array.from((await negOnly(x, sigma)).data));
      }
    }
  });

  it('runs the unconditional pass at CFG 1 too (ComfyUI disable_cfg1_optimization); without a negative, uncond = the estimate', async () => {
    const model = modelOver(new PlainUNet());
    const x = latent(1, 4, 4);
    const at1 = await makeDenoiser({ model, positive: pos, negative: neg, cfg: 1, exposeUncond: true }).withUncond!(x, 2);
    expect(Array.from(at1.uncond.data)).toEqual(Array.from((await makeDenoiser({ model, positive: neg, cfg: 1 })(x, 2)).data));
    expect(Array.from(at1.uncond.data)).not.toEqual(Array.from(at1.denoised.data));
    const basic = await makeDenoiser({ model, positive: pos, cfg: 1, exposeUncond: true }).withUncond!(x, 2);
    expect(Array.from(basic.uncond.data)).toEqual(Array.from(basic.denoised.data));
    expect(makeDenoiser({ model, positive: pos, negative: neg, cfg: 7 }).withUncond).toBeUndefined();
  });

  it('inpainting keeps the input latent outside the mask in both estimates', async () => {
    const model = modelOver(new PlainUNet());
    const x = latent(1, 4, 4);
    const mask = new Float32Array(64).map((_, i) => (i % 16 < 8 ? 1 : 0));
    const lat = new Float32Array(64).map((_, i) => Math.cos(i));
    const d = makeDenoiser({ model, positive: pos, negative: neg, cfg: 5, exposeUncond: true, inpaint: { mask, latent: lat, noise: new Float32Array(64) } });
    const r = await d.withUncond!(x, 3);
    for (let i = 0; i < 64; i++) {
      if (mask[i] === 0) {
        expect(r.uncond.data[i]).toBe(Math.fround(lat[i]));
        expect(r.denoised.data[i]).toBe(Math.fround(lat[i]));
      }
    }
  });

  it('sampleLatent asks for it exactly when the sampler reads it', async () => {
    const model = modelOver(new PlainUNet());
    const offered: boolean[] = [];
    const probe = (usesUncond: boolean) => Object.assign(async (denoise: Denoiser, x: Tensor) => (offered.push(denoise.withUncond !== undefined), x), { usesUncond });
    for (const usesUncond of [true, false]) {
      await sampleLatent({ signal: new AbortController().signal, progress: () => undefined, wantsPreviews: false }, {
        model, positive: pos, negative: neg, cfg: 7, latent: { samples: Tensor.zeros([1, 4, 4, 4]) }, sigmas: Float64Array.from([5, 0]), seed: 1n,
        sampler: { name: 'probe', fn: probe(usesUncond) },
      });
    }
    expect(offered).toEqual([true, false]);
  });
});
