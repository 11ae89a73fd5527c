/**
 * Canny edges as kornia.filters.canny computes them (kornia/filters/canny.py, the function ComfyUI's
 * comfy_extras/nodes_canny.py calls): grayscale (0.299, 0.587, 0.114), 5x5 Gaussian blur sigma 1 with
 * reflect borders, unnormalised Sobel gradients with replicate borders, magnitude sqrt(gx^2 + gy^2 + eps),
 * the angle rounded to 45 degrees, non-maximum suppression against both neighbours along it (zero
 * padding), low/high thresholds as 0.5 / 1.0, then hysteresis: weak edges touching a strong one become
 * strong until nothing changes. Works on planes [B,C,H,W] (C 1 or 3); returns edges [B,H,W] in {0, 1}.
 */
import type { Tensor } from '../runtime/tensor.js';

const EPS = 1e-6;

/** kornia get_gaussian_kernel1d(5, 1.0): exp(-x^2 / 2) over x = -2..2, normalised. */
function gaussian5(): Float32Array {
  const k = Float32Array.from([-2, -1, 0, 1, 2], (x) => Math.exp(-(x * x) / 2));
  const s = k.reduce((a, b) => a + b, 0);
  return k.map((v) => v / s);
}

/** torch 'reflect' padding index (the edge is not repeated). */
function reflect(i: number, n: number): number {
  if (n === 1) return 0;
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
  return i;
}

const clampIndex = (i: number, n: number) => (i < 0 ? 0 : i >= n ? n - 1 : i);

/** kornia rgb_to_grayscale for a 3-channel plane set; 1-channel planes are used as they are. */
function gray(data: Float32Array, c: number, plane: number, b: number): Float32Array {
  const base = b * c * plane;
  if (c === 1) return data.slice(base, base + plane);
  const out = new Float32Array(plane);
  for (let p = 0; p < plane; p++) out[p] = 0.299 * data[base + p]! + 0.587 * data[base + plane + p]! + 0.114 * data[base + 2 * plane + p]!;
  return out;
}

/** Separable Gaussian, rows then columns, reflect borders (kornia filter2d_separable). */
function blur(src: Float32Array, H: number, W: number): Float32Array {
  const k = gaussian5();
  const tmp = new Float32Array(H * W);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let s = 0;
      for (let t = -2; t <= 2; t++) s += src[y * W + reflect(x + t, W)]! * k[t + 2]!;
      tmp[y * W + x] = s;
    }
  }
  const out = new Float32Array(H * W);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let s = 0;
      for (let t = -2; t <= 2; t++) s += tmp[reflect(y + t, H) * W + x]! * k[t + 2]!;
      out[y * W + x] = s;
    }
  }
  return out;
}

/** Neighbour offsets [dy, dx] of kornia's NMS kernels 0..7 (0 = right, then clockwise with y down). */
const DIRS: readonly (readonly [number, number])[] = [[0, 1], [1, 1], [1, 0], [1, -1], [0, -1], [-1, -1], [-1, 0], [-1, 1]];

/** torch.round: half to even. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function edgesOfPlane(src: Float32Array, H: number, W: number, low: number, high: number): Float32Array {
  const g = blur(src, H, W);
  const at = (y: number, x: number) => g[clampIndex(y, H) * W + clampIndex(x, W)]!;
  const mag = new Float32Array(H * W);
  const dir = new Uint8Array(H * W);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const gx = at(y - 1, x + 1) - at(y - 1, x - 1) + 2 * (at(y, x + 1) - at(y, x - 1)) + at(y + 1, x + 1) - at(y + 1, x - 1);
      const gy = at(y + 1, x - 1) - at(y - 1, x - 1) + 2 * (at(y + 1, x) - at(y - 1, x)) + at(y + 1, x + 1) - at(y - 1, x + 1);
      mag[y * W + x] = Math.sqrt(Math.fround(gx * gx + gy * gy + EPS));
      const deg = (180 * Math.atan2(gy, gx)) / Math.PI;
      dir[y * W + x] = (((roundHalfEven(deg / 45) % 8) + 8) % 8);
    }
  }
  const m = (y: number, x: number) => (y < 0 || y >= H || x < 0 || x >= W ? 0 : mag[y * W + x]!);
  const edges = new Float32Array(H * W);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const v = mag[y * W + x]!;
      const [py, px] = DIRS[dir[y * W + x]!]!;
      const [ny, nx] = DIRS[(dir[y * W + x]! + 4) % 8]!;
      const isMax = Math.min(v - m(y + py, x + px), v - m(y + ny, x + nx)) > 0;
      const s = isMax ? v : 0;
      edges[y * W + x] = (s > low ? 0.5 : 0) + (s > high ? 0.5 : 0);
    }
  }
  return hysteresis(edges, H, W);
}

/** kornia's hysteresis loop: a weak pixel with a strong 8-neighbour becomes strong; the rest of the weak ones vanish. */
function hysteresis(edges: Float32Array, H: number, W: number): Float32Array {
  let cur = edges;
  for (;;) {
    const next = new Float32Array(H * W);
    let changed = false;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const v = cur[y * W + x]!;
        let out = v === 1 ? 1 : 0;
        if (v === 0.5) {
          let touches = false;
          for (const [dy, dx] of DIRS) {
            const yy = y + dy;
            const xx = x + dx;
            if (yy >= 0 && yy < H && xx >= 0 && xx < W && cur[yy * W + xx] === 1) touches = true;
          }
          out = touches ? 1 : 0.5;
        }
        next[y * W + x] = out;
        if (out !== v) changed = true;
      }
    }
    if (!changed) {
      // The loop's last hysteresis_magnitude: strong pixels only.
      for (let i = 0; i < next.length; i++) next[i] = next[i] === 1 ? 1 : 0;
      return next;
    }
    cur = next;
  }
}

/** Canny edges of planes [B,C,H,W] (C = 1 or 3): [B,H,W] in {0, 1}. */
export function cannyEdges(planes: Tensor, low: number, high: number): Float32Array {
  const [B, C, H, W] = planes.shape as [number, number, number, number];
  const plane = H * W;
  const out = new Float32Array(B * plane);
  for (let b = 0; b < B; b++) out.set(edgesOfPlane(gray(planes.data as Float32Array, C, plane, b), H, W, low, high), b * plane);
  return out;
}
