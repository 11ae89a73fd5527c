import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { BETA, prototypeLatents, TAU } from '../../../toyworld/latents.js';
import { sigmaAt } from '../../../toyworld/schedule.js';
import { COLOURS, prototypeIds, SHAPES } from '../../../toyworld/world.js';
import { floatData, halfTensor, normals, promptIds, session } from '../helpers.js';

const Z = prototypeLatents();
const IDS = prototypeIds();
const K = IDS.length;
const P32 = 4 * 32 * 32;

let text: ort.InferenceSession;
let unet: ort.InferenceSession;
beforeAll(async () => {
  text = await session('checkpoints/toyworld-shapes/text_encoder/model.onnx');
  unet = await session('checkpoints/toyworld-shapes/unet/model.onnx');
});

async function hidden(prompts: readonly string[]): Promise<ort.Tensor> {
  const ids = Int32Array.from(prompts.flatMap((p) => promptIds(p)));
  const out = await text.run({ input_ids: new ort.Tensor('int32', ids, [prompts.length, 77]) });
  return out.last_hidden_state;
}

/** Half-pixel bilinear resize of one plane (the ONNX Resize "linear" / "half_pixel" definition). */
function resizePlane(src: Float32Array, off: number, h: number, w: number): Float64Array {
  const out = new Float64Array(h * w);
  for (let j = 0; j < h; j++) {
    const sy = Math.min(Math.max(((j + 0.5) * 32) / h - 0.5, 0), 31);
    const y0 = Math.floor(sy);
    const y1 = Math.min(y0 + 1, 31);
    const fy = sy - y0;
    for (let i = 0; i < w; i++) {
      const sx = Math.min(Math.max(((i + 0.5) * 32) / w - 0.5, 0), 31);
      const x0 = Math.floor(sx);
      const x1 = Math.min(x0 + 1, 31);
      const fx = sx - x0;
      const at = (x: number, y: number): number => src[off + y * 32 + x];
      out[j * w + i] = (at(x0, y0) * (1 - fx) + at(x1, y0) * fx) * (1 - fy) + (at(x0, y1) * (1 - fx) + at(x1, y1) * fx) * fy;
    }
  }
  return out;
}

/** Float64 reference of spec/toyworld.md "U-Net" steps 1-6 for one row; returns eps. */
function referenceEps(sample: ArrayLike<number>, t: number, concepts: readonly number[], h: number, w: number): Float64Array {
  const sigma = sigmaAt(t);
  const n = 4 * h * w;
  const x = Float64Array.from({ length: n }, (_, i) => sample[i] * Math.sqrt(sigma * sigma + 1));
  const protos = IDS.map((_, k) => {
    const z = new Float64Array(n);
    for (let c = 0; c < 4; c++) z.set(resizePlane(Z, (k * 4 + c) * 1024, h, w), c * h * w);
    return z;
  });
  const v = sigma * sigma + TAU * TAU;
  const logw = IDS.map((id, k) => {
    let d = 0;
    for (let i = 0; i < n; i++) d += (x[i] - protos[k][i]) ** 2;
    return BETA * (concepts[id.colour] + concepts[COLOURS.length + id.shape]) - d / (2 * v);
  });
  const m = Math.max(...logw);
  const wts = logw.map((l) => Math.exp(l - m));
  const total = wts.reduce((a, b) => a + b, 0);
  const r = (TAU * TAU) / v;
  const eps = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let mean = 0;
    for (let k = 0; k < K; k++) mean += (wts[k] / total) * protos[k][i];
    eps[i] = (x[i] - ((1 - r) * mean + r * x[i])) / sigma;
  }
  return eps;
}

function conceptsOf(prompt: string): number[] {
  const words = prompt.split(' ');
  return [...COLOURS.map((c) => c.name), ...SHAPES].map((w) => words.filter((x) => x === w).length);
}

/** A noised prototype, scaled as the U-Net expects: (z_k + sigma n) / sqrt(sigma^2 + 1). */
function noisedSample(k: number, t: number, seed: number): Float32Array {
  const sigma = sigmaAt(t);
  const n = normals(P32, seed);
  return Float32Array.from(n, (e, i) => (Z[k * P32 + i] + sigma * e) / Math.sqrt(sigma * sigma + 1));
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function runUnet(s: ort.InferenceSession, sample: Float32Array, dims: number[], t: ort.Tensor, ehs: ort.Tensor): Promise<Float32Array> {
  const out = await s.run({ sample: new ort.Tensor('float32', sample, dims), timestep: t, encoder_hidden_states: ehs });
  return floatData(out.out_sample);
}

const tf = (ts: number[]): ort.Tensor => new ort.Tensor('float32', Float32Array.from(ts), [ts.length]);

describe('toyworld U-Net', () => {
  it('returns the prototype at small sigma with a matching prompt', async () => {
    const k = IDS.findIndex((id) => COLOURS[id.colour].name === 'red' && SHAPES[id.shape] === 'circle') + 3;
    const t = 20;
    const sample = noisedSample(k, t, 1);
    const eps = await runUnet(unet, sample, [1, 4, 32, 32], tf([t]), await hidden(['a red circle']));
    const sigma = sigmaAt(t);
    const x = Float64Array.from(sample, (v) => v * Math.sqrt(sigma * sigma + 1));
    const denoised = x.map((v, i) => v - sigma * eps[i]);
    const r = (TAU * TAU) / (sigma * sigma + TAU * TAU);
    // Exact posterior mean for a single component: z_k + r (x - z_k).
    const expected = x.map((v, i) => Z[k * P32 + i] + r * (v - Z[k * P32 + i]));
    expect(maxAbsDiff(denoised, expected)).toBeLessThan(1e-4);
  });

  it('matches a float64 reference at several sigmas, prompts and resolutions', async () => {
    const cases = [
      { prompt: '', t: 999, h: 32, w: 32 },
      { prompt: 'a blue square', t: 500, h: 32, w: 32 },
      { prompt: 'a photo of the', t: 250.5, h: 24, w: 40 },
      { prompt: 'green ring', t: 60.25, h: 16, w: 16 },
    ];
    for (const c of cases) {
      const n = 4 * c.h * c.w;
      const base = 37 + (c.h + c.w);
      const sample = Float32Array.from(normals(n, base), (v) => 0.4 * v);
      const eps = await runUnet(unet, sample, [1, 4, c.h, c.w], tf([c.t]), await hidden([c.prompt]));
      const ref = referenceEps(sample, c.t, conceptsOf(c.prompt), c.h, c.w);
      const scale = Math.max(...ref.map(Math.abs));
      expect(maxAbsDiff(eps, ref) / scale, `${c.prompt} t=${c.t} ${c.h}x${c.w}`).toBeLessThan(2e-4);
    }
  });

  it('gives a uniform prior for an empty prompt', async () => {
    // x = 0 at large sigma: every class is equally likely only if the prior is uniform, so D is
    // (up to the likelihood's slight preference) the same under "" and under a prompt without concepts.
    const sample = new Float32Array(P32);
    const a = await runUnet(unet, sample, [1, 4, 32, 32], tf([999]), await hidden(['']));
    const b = await runUnet(unet, sample, [1, 4, 32, 32], tf([999]), await hidden(['the picture']));
    const c = await runUnet(unet, sample, [1, 4, 32, 32], tf([999]), await hidden(['red']));
    expect(maxAbsDiff(a, b)).toBe(0);
    expect(maxAbsDiff(a, c)).toBeGreaterThan(1e-4);
    const ref = referenceEps(sample, 999, conceptsOf(''), 32, 32);
    expect(maxAbsDiff(a, ref)).toBeLessThan(1e-5);
  });

  it('keeps batch rows independent (per-row timesteps and prompts)', async () => {
    const s0 = noisedSample(5, 300, 2);
    const s1 = noisedSample(200, 40, 3);
    const both = new Float32Array(2 * P32);
    both.set(s0);
    both.set(s1, P32);
    const h = await hidden(['a red circle', 'purple cross']);
    const batched = await runUnet(unet, both, [2, 4, 32, 32], tf([300, 40]), h);
    const h0 = await hidden(['a red circle']);
    const h1 = await hidden(['purple cross']);
    const one0 = await runUnet(unet, s0, [1, 4, 32, 32], tf([300]), h0);
    const one1 = await runUnet(unet, s1, [1, 4, 32, 32], tf([40]), h1);
    expect(maxAbsDiff(batched.subarray(0, P32), one0)).toBeLessThan(1e-5);
    expect(maxAbsDiff(batched.subarray(P32), one1)).toBeLessThan(1e-5);
  });

  it('flavours agree with the default U-Net', async () => {
    const t = 400;
    const sample = noisedSample(77, t, 4);
    const h = await hidden(['a yellow triangle']);
    const base = await runUnet(unet, sample, [1, 4, 32, 32], tf([t]), h);

    const int64 = await session('checkpoints/toyworld-shapes-int64t/unet/model.onnx');
    const a = await runUnet(int64, sample, [1, 4, 32, 32], new ort.Tensor('int64', BigInt64Array.from([BigInt(t)]), [1]), h);
    expect(maxAbsDiff(a, base)).toBeLessThan(1e-6);

    const scalar = await session('checkpoints/toyworld-shapes-scalart/unet/model.onnx');
    const b = await runUnet(scalar, sample, [1, 4, 32, 32], new ort.Tensor('float32', Float32Array.from([t]), []), h);
    expect(maxAbsDiff(b, base)).toBeLessThan(1e-6);

    const lp = await session('checkpoints/toyworld-shapes-latentparams/unet/model.onnx');
    expect(maxAbsDiff(await runUnet(lp, sample, [1, 4, 32, 32], tf([t]), h), base)).toBeLessThan(1e-6);

    const vpred = await session('checkpoints/toyworld-shapes-vpred/unet/model.onnx');
    const v = await runUnet(vpred, sample, [1, 4, 32, 32], tf([t]), h);
    const sigma = sigmaAt(t);
    const c = Math.sqrt(sigma * sigma + 1);
    // v = sqrt(abar) eps - sqrt(1 - abar) x0, with sqrt(abar) = 1/c, sqrt(1 - abar) = sigma/c, x0 = x - sigma eps.
    const vExpected = Array.from(base, (e, i) => e / c - (sigma / c) * (sample[i] * c - sigma * e));
    expect(maxAbsDiff(v, vExpected)).toBeLessThan(1e-4);

    const fp16 = await session('checkpoints/toyworld-shapes-fp16/unet/model.onnx');
    const hf = floatData(h);
    const out = await fp16.run({
      sample: halfTensor(sample, [1, 4, 32, 32]),
      timestep: halfTensor([t], [1]),
      encoder_hidden_states: halfTensor(hf, h.dims),
    });
    expect(out.out_sample.type).toBe('float16');
    const e16 = floatData(out.out_sample);
    const scale = Math.max(...base.map(Math.abs));
    expect(maxAbsDiff(e16, base) / scale).toBeLessThan(1e-2);
  });

  it('an Euler sampler with CFG on "a red circle" ends on a red circle', async () => {
    const sigmas = [14.6, 9, 5.5, 3.3, 2, 1.2, 0.7, 0.4, 0.2, 0.1, 0.05, 0];
    const sigmaTable = Array.from({ length: 1000 }, (_, t) => sigmaAt(t));
    const tOf = (s: number): number => {
      // Invert sigma(t) by bisection on the monotone table (log-linear between steps).
      let lo = 0;
      let hi = 999;
      if (s >= sigmaTable[999]) return 999;
      if (s <= sigmaTable[0]) return 0;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (sigmaTable[mid] < s) lo = mid;
        else hi = mid;
      }
      return lo + (Math.log(s) - Math.log(sigmaTable[lo])) / (Math.log(sigmaTable[hi]) - Math.log(sigmaTable[lo]));
    };
    const h = await hidden(['a red circle', '']);
    const hd = floatData(h);
    for (const seed of [11, 12]) {
      let x = Float32Array.from(normals(P32, seed), (v) => v * sigmas[0]);
      for (let i = 0; i + 1 < sigmas.length; i++) {
        const s = sigmas[i];
        const c = Math.sqrt(s * s + 1);
        const both = new Float32Array(2 * P32);
        for (let j = 0; j < P32; j++) both[j] = both[P32 + j] = x[j] / c;
        const eps = await runUnet(unet, both, [2, 4, 32, 32], tf([tOf(s), tOf(s)]), new ort.Tensor('float32', hd, h.dims));
        const next = new Float32Array(P32);
        for (let j = 0; j < P32; j++) {
          const e = eps[P32 + j] + 7 * (eps[j] - eps[P32 + j]);
          next[j] = x[j] + (sigmas[i + 1] - s) * e;
        }
        x = next;
      }
      let best = 0;
      let bestD = Infinity;
      for (let k = 0; k < K; k++) {
        let d = 0;
        for (let j = 0; j < P32; j++) d += (x[j] - Z[k * P32 + j]) ** 2;
        if (d < bestD) [best, bestD] = [k, d];
      }
      expect(`${COLOURS[IDS[best].colour].name} ${SHAPES[IDS[best].shape]}`).toBe('red circle');
      expect(Math.sqrt(bestD / P32)).toBeLessThan(0.02);
    }
  });
});
