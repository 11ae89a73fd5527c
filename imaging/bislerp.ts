/**
 * ComfyUI's `bislerp` upscale (comfy/utils.py): separable, along width then height; each output pixel's
 * channel vector is slerped between its two bilinear neighbours, and its length is the lerp of theirs.
 * Neighbours and ratios come from bilinearly interpolating index ramps, as ComfyUI does with
 * torch.nn.functional.interpolate (align_corners=False).
 */
import { Tensor } from '../runtime/tensor.js';

interface Taps {
  readonly first: Int32Array;
  readonly second: Int32Array;
  readonly ratio: Float32Array;
}

/** ComfyUI's generate_bilinear_data, in float32 as torch computes it. */
function taps(inSize: number, outSize: number): Taps {
  const f = Math.fround;
  const scale = f(inSize / outSize);
  const first = new Int32Array(outSize);
  const second = new Int32Array(outSize);
  const ratio = new Float32Array(outSize);
  // The ramp ComfyUI interpolates for the second neighbour: 1, 2, ..., n-1, n-1.
  const next = (i: number) => Math.min(i + 1, inSize - 1);
  for (let o = 0; o < outSize; o++) {
    const src = Math.max(f(f(scale * f(o + 0.5)) - 0.5), 0);
    const i0 = Math.min(Math.floor(src), inSize - 1);
    const i1 = Math.min(i0 + 1, inSize - 1);
    const l1 = f(src - i0);
    const l0 = f(1 - l1);
    const a = f(f(i0 * l0) + f(i1 * l1));
    const b = f(f(next(i0) * l0) + f(next(i1) * l1));
    first[o] = Math.trunc(a);
    second[o] = Math.trunc(b);
    ratio[o] = f(a - Math.floor(a));
  }
  return { first, second, ratio };
}

/** ComfyUI's slerp of two channel vectors (a[ao], a[ao + stride], ...) at ratio r, written into out[o], out[o + outStride], ... */
function slerp(c: number, a: Float32Array, ao: number, b: Float32Array, bo: number, stride: number, r: number, out: Float32Array, o: number, outStride: number): void {
  let na = 0;
  let nb = 0;
  let dot = 0;
  for (let k = 0; k < c; k++) {
    const x = a[ao + k * stride]!;
    const y = b[bo + k * stride]!;
    na += x * x;
    nb += y * y;
    dot += x * y;
  }
  na = Math.sqrt(na);
  nb = Math.sqrt(nb);
  // A zero vector's direction counts as zero.
  dot = na === 0 || nb === 0 ? 0 : dot / (na * nb);
  if (dot > 1 - 1e-5) {
    for (let k = 0; k < c; k++) out[o + k * outStride] = a[ao + k * stride]!;
    return;
  }
  if (dot < 1e-5 - 1) {
    for (let k = 0; k < c; k++) out[o + k * outStride] = a[ao + k * stride]! * (1 - r) + b[bo + k * stride]! * r;
    return;
  }
  const omega = Math.acos(dot);
  const so = Math.sin(omega);
  const len = na * (1 - r) + nb * r;
  const wa = na === 0 ? 0 : ((Math.sin((1 - r) * omega) / so) * len) / na;
  const wb = nb === 0 ? 0 : ((Math.sin(r * omega) / so) * len) / nb;
  for (let k = 0; k < c; k++) out[o + k * outStride] = a[ao + k * stride]! * wa + b[bo + k * stride]! * wb;
}

/** bislerp of NCHW samples to outH x outW. */
export function bislerp(t: Tensor<'float32'>, outW: number, outH: number): Tensor<'float32'> {
  const [n, c, h, w] = t.shape as [number, number, number, number];
  const tx = taps(w, outW);
  const wide = new Float32Array(n * c * h * outW);
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < outW; x++) {
        const src = b * c * h * w + y * w;
        slerp(c, t.data, src + tx.first[x]!, t.data, src + tx.second[x]!, h * w, tx.ratio[x]!, wide, b * c * h * outW + y * outW + x, h * outW);
      }
    }
  }
  const ty = taps(h, outH);
  const out = new Float32Array(n * c * outH * outW);
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < outH; y++) {
      for (let x = 0; x < outW; x++) {
        const src = b * c * h * outW + x;
        slerp(c, wide, src + ty.first[y]! * outW, wide, src + ty.second[y]! * outW, h * outW, ty.ratio[y]!, out, b * c * outH * outW + y * outW + x, outH * outW);
      }
    }
  }
  return new Tensor('float32', out, [n, c, outH, outW]);
}
