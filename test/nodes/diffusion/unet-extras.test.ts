import { describe, expect, it } from 'vitest';
import { Tensor } from '../../../runtime/tensor.js';
import type { IoMeta, TensorMap } from '../../../runtime/io-meta.js';
import { ModelSampling, makeBetas, sigmasFromBetas } from '../../../sampling/model-sampling.js';
import { LatentPreviewer, SD15_RGB_PROJECTION } from '../../../imaging/latent-preview.js';
import { makeDenoiser } from '../../../nodes/diffusion/denoiser.js';
import { timeIds } from '../../../nodes/diffusion/unet-extras.js';
import { setArea } from '../../../nodes/diffusion/conditioning.js';
import { SessionHandle, type DiffusionSession } from '../../../runtime/session-handle.js';
import type { CondEntry, Conditioning, DiffusionModel } from '../../../sockets/index.js';
import { UNetQueue, mergeKey } from '../../../runtime/batching/unet-queue.js';

const SEQ = 2;

/** An SDXL-shaped U-Net stand-in that records the text_embeds and time_ids rows of each call. */
class SdxlUNet implements DiffusionSession {
  readonly calls: { textEmbeds: number[][]; timeIds: number[][] }[] = [];
  readonly inputs: readonly IoMeta[];
  readonly outputs: readonly IoMeta[] = [{ name: 'out_sample', dtype: 'float32', shape: ['batch', 4, 'h', 'w'], shapeKnown: true }];
  constructor(readonly ctx: number, readonly pooled: number, readonly ids: 5 | 6) {
    this.inputs = [
      { name: 'sample', dtype: 'float32', shape: ['batch', 4, 'h', 'w'], shapeKnown: true },
      { name: 'timestep', dtype: 'float32', shape: [], shapeKnown: true },
      { name: 'encoder_hidden_states', dtype: 'float32', shape: ['batch', 'seq', ctx], shapeKnown: true },
      { name: 'text_embeds', dtype: 'float32', shape: ['batch', pooled], shapeKnown: true },
      { name: 'time_ids', dtype: 'float32', shape: ['batch', ids], shapeKnown: true },
    ];
  }
  async run(feeds: Readonly<Record<string, Tensor>>): Promise<TensorMap> {
    const rows = (t: Tensor) => Array.from({ length: t.shape[0]! }, (_, r) => Array.from(t.data.subarray(r * t.shape[1]!, (r + 1) * t.shape[1]!) as Float32Array));
    this.calls.push({ textEmbeds: rows(feeds.text_embeds!), timeIds: rows(feeds.time_ids!) });
    return { out_sample: new Tensor('float32', new Float32Array(feeds.sample!.size), feeds.sample!.shape) };
  }
}

function modelOver(session: DiffusionSession): DiffusionModel {
  const sigmas = sigmasFromBetas(makeBetas());
  return {
    name: 'tiny-xl', unet: new UNetQueue(new SessionHandle({ session: async () => session }, 'fake.onnx')),
    sampling: new ModelSampling(sigmas, {}), trainingSigmas: sigmas, timestepMode: 'nearest',
    latentScale: 1, latentChannels: 4, lcmGuidance: 8.5, previewer: LatentPreviewer.fixed(SD15_RGB_PROJECTION),
  };
}

const entry = (ctx: number, pooled: number | undefined, p0: number, extra: Partial<CondEntry> = {}): CondEntry => ({
  embeds: Tensor.float32(new Float32Array(SEQ * ctx).fill(p0), [1, SEQ, ctx]),
  pooled: pooled === undefined ? undefined : Tensor.float32(new Float32Array(pooled).fill(p0), [1, pooled]),
  strength: 1,
  ...extra,
});
const x = (B: number, H: number, W: number) => Tensor.zeros([B, 4, H, W]);

describe('SDXL U-Net feed (text_embeds, time_ids)', () => {
  it('time ids: the latent size x 8 by default, the widgets when set, targets default to the size; refiner ascore 6 / 2.5', () => {
    const plain = entry(4, 3, 0);
    expect(timeIds(plain, 0, 8, 12, 6)).toEqual([64, 96, 0, 0, 64, 96]);
    const sized = entry(4, 3, 0, { size: { width: 1024, height: 768, cropW: 16, cropH: 8, targetWidth: 640, targetHeight: 480 } });
    expect(timeIds(sized, 0, 8, 12, 6)).toEqual([768, 1024, 8, 16, 480, 640]);
    expect(timeIds(entry(4, 3, 0, { size: { width: 512, height: 256 } }), 1, 8, 8, 6)).toEqual([256, 512, 0, 0, 256, 512]);
    expect(timeIds(plain, 0, 8, 8, 5)).toEqual([64, 64, 0, 0, 6]);
    expect(timeIds(plain, 1, 8, 8, 5)).toEqual([64, 64, 0, 0, 2.5]);
    expect(timeIds(entry(4, 3, 0, { size: { aestheticScore: 3, width: 1024, height: 1024 } }), 0, 8, 8, 5)).toEqual([1024, 1024, 0, 0, 3]);
  });

  it('feeds each row its own pooled vector and time ids: cond rows then uncond rows, B rows each', async () => {
    const unet = new SdxlUNet(4, 3, 6);
    const pos: Conditioning = [entry(4, 3, 1, { size: { width: 1024, height: 768, targetWidth: 640, targetHeight: 480 } })];
    const neg: Conditioning = [entry(4, 3, 2)];
    await makeDenoiser({ model: modelOver(unet), positive: pos, negative: neg, cfg: 5 })(x(2, 8, 12), 3);
    expect(unet.calls).toHaveLength(1);
    expect(unet.calls[0]!.textEmbeds).toEqual([[1, 1, 1], [1, 1, 1], [2, 2, 2], [2, 2, 2]]);
    expect(unet.calls[0]!.timeIds).toEqual([[768, 1024, 0, 0, 480, 640], [768, 1024, 0, 0, 480, 640], [64, 96, 0, 0, 64, 96], [64, 96, 0, 0, 64, 96]]);
  });

  it('keeps the size conditioning through ConditioningCombine / SetArea (areas still default to the whole latent)', async () => {
    const unet = new SdxlUNet(4, 3, 6);
    const a = entry(4, 3, 1, { size: { width: 300, height: 200 } });
    const b = entry(4, 3, 3);
    const pos = [...setArea([a], 64, 64, 0, 0, 1), ...setArea([b], 64, 64, 32, 0, 1)];
    await makeDenoiser({ model: modelOver(unet), positive: pos, negative: [entry(4, 3, 2)], cfg: 5 })(x(1, 8, 12), 3);
    const all = unet.calls.flatMap((c) => c.timeIds.map((t, i) => [c.textEmbeds[i]![0], ...t]));
    expect(all).toContainEqual([1, 200, 300, 0, 0, 200, 300]);
    expect(all).toContainEqual([3, 64, 96, 0, 0, 64, 96]);
    expect(all).toContainEqual([2, 64, 96, 0, 0, 64, 96]);
  });

  it('refiner U-Net: five time ids with the aesthetic score per side', async () => {
    const unet = new SdxlUNet(4, 4, 5);
    const pos: Conditioning = [entry(4, 4, 1, { size: { aestheticScore: 7.5, width: 1024, height: 1024 } })];
    await makeDenoiser({ model: modelOver(unet), positive: pos, negative: [entry(4, 4, 2)], cfg: 5 })(x(1, 8, 8), 3);
    expect(unet.calls[0]!.timeIds).toEqual([[1024, 1024, 0, 0, 7.5], [64, 64, 0, 0, 2.5]]);
  });

  it('refuses SD 1.x conditioning on an SDXL U-Net, a missing pooled output, and base conditioning on a refiner, naming the model', async () => {
    const xl = modelOver(new SdxlUNet(2048, 1280, 6));
    const sd15 = entry(768, 768, 1);
    await expect(makeDenoiser({ model: xl, positive: [sd15], negative: [sd15], cfg: 5 })(x(1, 8, 8), 3)).rejects.toThrow(/SDXL U-Net of 'tiny-xl' takes conditioning 2048 wide \(SDXL base\), but got conditioning 768 wide \(SD 1.x\)/);
    const noPooled = entry(2048, undefined, 1);
    await expect(makeDenoiser({ model: xl, positive: [noPooled], cfg: 1 })(x(1, 8, 8), 3)).rejects.toThrow(/needs the pooled text output/);
    const refiner = modelOver(new SdxlUNet(1280, 1280, 5));
    const base = entry(2048, 1280, 1);
    await expect(makeDenoiser({ model: refiner, positive: [base], cfg: 1 })(x(1, 8, 8), 3)).rejects.toThrow(/SDXL refiner U-Net of 'tiny-xl' takes conditioning 1280 wide \(SDXL refiner\), but got conditioning 2048 wide \(SDXL base\)/);
  });

  it('merge key: requests with other extra-input shapes do not share a call', () => {
    const req = (ids: number) => ({
      sample: Tensor.zeros([1, 4, 8, 8]), timesteps: new Float64Array(1), encoderHiddenStates: Tensor.zeros([1, 77, 48]),
      extra: { text_embeds: Tensor.zeros([1, 32]), time_ids: Tensor.zeros([1, ids]) },
    });
    expect(mergeKey(req(6))).toBe(mergeKey(req(6)));
    expect(mergeKey(req(6))).not.toBe(mergeKey(req(5)));
  });
});
