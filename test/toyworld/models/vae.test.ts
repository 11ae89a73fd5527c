import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { LATENT_LOGVAR } from '../../../toyworld/models/vae.js';
import { prototypeLatents, SCALING_FACTOR } from '../../../toyworld/latents.js';
import { classLabels, prototypeIds, renderPrototype, type RgbImage } from '../../../toyworld/world.js';
import { zeroShot } from '../clip-helpers.js';
import { floatData, halfTensor, session, toPixels } from '../helpers.js';

let encoder: ort.InferenceSession;
let decoder: ort.InferenceSession;
beforeAll(async () => {
  encoder = await session('checkpoints/toyworld-shapes/vae_encoder/model.onnx');
  decoder = await session('checkpoints/toyworld-shapes/vae_decoder/model.onnx');
});

/** Images 0..1 -> VAE input in [-1, 1]. */
const vaeIn = (imgs: RgbImage[]): ort.Tensor => toPixels(imgs, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]);

function fromVae(data: Float32Array, b: number, h: number, w: number): RgbImage {
  const n = h * w;
  const out = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) out[i * 3 + c] = Math.min(1, Math.max(0, (data[(b * 3 + c) * n + i] + 1) / 2));
  return { width: w, height: h, data: out };
}

const IDS = prototypeIds();
const PICK = [0, 45, 90, 133, 170, 222, 250, 301];

describe('toyworld VAE', () => {
  it('encodes a prototype image to its prototype latent / scaling_factor', async () => {
    const z = prototypeLatents();
    const imgs = PICK.map((k) => renderPrototype(IDS[k]));
    const lat = floatData((await encoder.run({ sample: vaeIn(imgs) })).latent_sample);
    let err = 0;
    PICK.forEach((k, b) => {
      for (let i = 0; i < 4 * 1024; i++) err = Math.max(err, Math.abs(lat[b * 4096 + i] * SCALING_FACTOR - z[k * 4096 + i]));
    });
    expect(err).toBeLessThan(1e-5);
    // U-Net-space colour channels stay within about +-0.3.
    expect(z.reduce((m, v) => Math.max(m, Math.abs(v)), 0)).toBeLessThan(0.3);
  });

  it('decodes a constant latent to a constant image, borders included, at any size', async () => {
    const lat = new Float32Array(4 * 5 * 7).fill(0.25);
    const out = await decoder.run({ latent_sample: new ort.Tensor('float32', lat, [1, 4, 5, 7]) });
    expect(out.sample.dims).toEqual([1, 3, 40, 56]);
    for (const v of floatData(out.sample)) expect(v).toBeCloseTo(0.25, 5);
  });

  it('decode(encode(prototype)) keeps the class, as judged by CLIP', async () => {
    const imgs = PICK.map((k) => renderPrototype(IDS[k]));
    const lat = (await encoder.run({ sample: vaeIn(imgs) })).latent_sample;
    const dec = floatData((await decoder.run({ latent_sample: lat })).sample);
    const back = PICK.map((_, b) => fromVae(dec, b, 256, 256));
    const r = await zeroShot(back);
    const labels = classLabels();
    PICK.forEach((k, b) => {
      const cls = IDS[k].colour * 5 + IDS[k].shape;
      expect(r.best[b]).toBe(labels[cls]);
      expect(r.probs[b][cls]).toBeGreaterThan(0.9);
    });
  });

  it('the latent_parameters flavour returns the mean then a constant log-variance', async () => {
    const enc = await session('checkpoints/toyworld-shapes-latentparams/vae_encoder/model.onnx');
    const imgs = [renderPrototype(IDS[7])];
    const params = floatData((await enc.run({ sample: vaeIn(imgs) })).latent_parameters);
    const mean = floatData((await encoder.run({ sample: vaeIn(imgs) })).latent_sample);
    expect(params.length).toBe(8 * 1024);
    for (let i = 0; i < 4096; i++) expect(params[i]).toBeCloseTo(mean[i], 6);
    for (let i = 4096; i < 8192; i++) expect(params[i]).toBe(LATENT_LOGVAR);
  });

  it('the fp16 flavour agrees with float32 within half precision', async () => {
    const enc16 = await session('checkpoints/toyworld-shapes-fp16/vae_encoder/model.onnx');
    const dec16 = await session('checkpoints/toyworld-shapes-fp16/vae_decoder/model.onnx');
    const x = vaeIn([renderPrototype(IDS[99])]);
    const lat16 = (await enc16.run({ sample: halfTensor(floatData(x), x.dims) })).latent_sample;
    expect(lat16.type).toBe('float16');
    const lat = floatData((await encoder.run({ sample: x })).latent_sample);
    const l16 = floatData(lat16);
    for (let i = 0; i < lat.length; i++) expect(Math.abs(l16[i] - lat[i])).toBeLessThan(2e-3);
    const img16 = floatData((await dec16.run({ latent_sample: lat16 })).sample);
    const img = floatData((await decoder.run({ latent_sample: new ort.Tensor('float32', lat, [1, 4, 32, 32]) })).sample);
    let err = 0;
    for (let i = 0; i < img.length; i++) err = Math.max(err, Math.abs(img16[i] - img[i]));
    expect(err).toBeLessThan(4e-3);
  });
});
