/**
 * Palette quantization as ComfyUI's ImageQuantize gets it from Pillow: the palette from
 * `Image.quantize(colors)` (median cut, src/libImaging/Quant.c `quantize` / `median_cut` / `splitlists`,
 * with QuantHeap.c's max-heap), the mapping from `Image.quantize(palette=...)` (ConvertToPalette.c
 * `topalette_colour_closest` / `topalette_colour_floyd_steinberg` through Palette.c's colour cache), and
 * ComfyUI's own ordered (Bayer) dither (comfy_extras/nodes_post_processing.py `Quantize.bayer`).
 * Pixels are 8-bit RGB triplets, row-major.
 */

/** Pillow's PIXEL_HASH, in uint32 arithmetic. */
function pixelHash(r: number, g: number, b: number): number {
  return (Math.imul(r, 463) ^ Math.imul(g << 8, 10069) ^ Math.imul(b << 16, 64997)) >>> 0;
}

/** NOTE: Quant.c MAX_HASH_ENTRIES: beyond 65,536 distinct colours, colours are coarsened by right shifts. */
const MAX_HASH_ENTRIES = 65536;

interface Entry {
  readonly p: readonly [number, number, number];
  count: number;
  box: number;
}

interface Box {
  entries: Entry[];
  pixelCount: number;
  l?: Box;
  r?: Box;
}

/** Colours keyed as Pillow's pixel hash keys them (the hash of the coarsened colour; the first pixel represents it). */
function histogram(rgb: Uint8Array, n: number): { entries: Entry[]; keyOf: (i: number) => number; table: Map<number, Entry> } {
  let scale = 0;
  const build = (s: number) => {
    const table = new Map<number, Entry>();
    for (let i = 0; i < n; i++) {
      const r = rgb[i * 3]! >> s, g = rgb[i * 3 + 1]! >> s, b = rgb[i * 3 + 2]! >> s;
      const k = pixelHash(r, g, b);
      const e = table.get(k);
      if (e) e.count++;
      else {
        table.set(k, { p: [r, g, b], count: 1, box: -1 });
        if (table.size > MAX_HASH_ENTRIES) return undefined;
      }
    }
    return table;
  };
  let table = build(0);
  while (!table) table = build(++scale);
  const s = scale;
  return { entries: [...table.values()], table, keyOf: (i) => pixelHash(rgb[i * 3]! >> s, rgb[i * 3 + 1]! >> s, rgb[i * 3 + 2]! >> s) };
}

/** The extent of a box along each axis (head = largest, tail = smallest value). */
function extent(entries: readonly Entry[]): [lo: number[], hi: number[]] {
  const lo = [255, 255, 255];
  const hi = [0, 0, 0];
  for (const e of entries) {
    for (let a = 0; a < 3; a++) {
      lo[a] = Math.min(lo[a]!, e.p[a]!);
      hi[a] = Math.max(hi[a]!, e.p[a]!);
    }
  }
  return [lo, hi];
}

function volume(b: Box): number {
  if (b.entries.length === 0) return 0;
  const [lo, hi] = extent(b.entries);
  return (hi[0]! - lo[0]! + 1) * (hi[1]! - lo[1]! + 1) * (hi[2]! - lo[2]! + 1);
}

/** Quant.c split/splitlists: the widest luminance-weighted axis, cut where half the pixels lie above. */
function split(node: Box): void {
  const [lo, hi] = extent(node.entries);
  const f = [(hi[0]! - lo[0]!) * 77, (hi[1]! - lo[1]!) * 150, (hi[2]! - lo[2]!) * 29];
  let axis = 0;
  for (let i = 1; i < 3; i++) if (f[axis]! < f[i]!) axis = i;
  const sorted = [...node.entries].sort((a, b) => b.p[axis]! - a.p[axis]!);
  let left = 0;
  let k = 0;
  while (k < sorted.length) {
    left += sorted[k]!.count;
    k++;
    if (left * 2 > node.pixelCount) break;
  }
  // Values equal to the last one taken stay on the left.
  if (k < sorted.length) {
    const v = sorted[k - 1]!.p[axis];
    while (k < sorted.length && sorted[k]!.p[axis] === v) k++;
  }
  // Nothing on the right: the run of the smallest value goes there.
  if (k === sorted.length) {
    const v = sorted[sorted.length - 1]!.p[axis];
    while (k > 0 && sorted[k - 1]!.p[axis] === v) k--;
  }
  const l = sorted.slice(0, k);
  const r = sorted.slice(k);
  const count = (es: Entry[]) => es.reduce((s, e) => s + e.count, 0);
  node.l = { entries: l, pixelCount: count(l) };
  node.r = { entries: r, pixelCount: count(r) };
  node.entries = [];
}

/** QuantHeap.c: a max-heap on pixelCount, with its exact sift rules (ties resolve as Pillow's do). */
class BoxHeap {
  private readonly heap: (Box | undefined)[] = [undefined];
  private count = 0;

  add(v: Box): void {
    let k = ++this.count;
    while (k !== 1) {
      const parent = this.heap[k >> 1]!;
      if (v.pixelCount - parent.pixelCount <= 0) break;
      this.heap[k] = parent;
      k >>= 1;
    }
    this.heap[k] = v;
  }

  remove(): Box | undefined {
    if (!this.count) return undefined;
    const top = this.heap[1];
    const v = this.heap[this.count--]!;
    let k = 1;
    for (let l: number; k * 2 <= this.count; k = l) {
      l = k * 2;
      if (l < this.count && this.heap[l]!.pixelCount - this.heap[l + 1]!.pixelCount < 0) l++;
      if (v.pixelCount - this.heap[l]!.pixelCount > 0) break;
      this.heap[k] = this.heap[l];
    }
    this.heap[k] = v;
    return top;
  }
}

/**
 * Pillow's median-cut palette for `colors` entries (Image.quantize(colors), method MEDIANCUT, kmeans 0):
 * boxes with the most pixels are split first; each palette entry is the rounded mean of its box's pixels.
 * Returns the palette as RGB triplets (at most `colors`, fewer when the image has fewer colours).
 */
export function medianCutPalette(rgb: Uint8Array, colors: number): Uint8Array {
  const n = rgb.length / 3;
  const { entries, keyOf, table } = histogram(rgb, n);
  const root: Box = { entries, pixelCount: n };
  const heap = new BoxHeap();
  heap.add(root);
  for (let left = colors - 1; left > 0; left--) {
    let node: Box | undefined;
    do node = heap.remove();
    while (node && volume(node) === 1);
    if (!node) break;
    split(node);
    heap.add(node.l!);
    heap.add(node.r!);
  }
  let boxes = 0;
  const annotate = (b: Box): void => {
    if (b.l && b.r) {
      annotate(b.l);
      annotate(b.r);
      return;
    }
    for (const e of b.entries) e.box = boxes;
    if (b.entries.length > 0) boxes++;
  };
  annotate(root);
  const sum = new Float64Array(boxes * 3);
  const cnt = new Float64Array(boxes);
  for (let i = 0; i < n; i++) {
    const box = table.get(keyOf(i))!.box;
    for (let c = 0; c < 3; c++) sum[box * 3 + c] += rgb[i * 3 + c]!;
    cnt[box]++;
  }
  const palette = new Uint8Array(boxes * 3);
  for (let i = 0; i < boxes * 3; i++) palette[i] = Math.trunc(0.5 + sum[i]! / cnt[Math.floor(i / 3)]!);
  return palette;
}

/**
 * Palette.c's colour cache: a colour maps to the entry nearest (squared RGB distance, lowest index on
 * ties) to the corner of its 4x4x4 cell, (r & ~3, g & ~3, b & ~3).
 */
class PaletteCache {
  private readonly cache = new Int16Array(64 * 64 * 64).fill(-1);

  constructor(private readonly palette: Uint8Array) {}

  lookup(r: number, g: number, b: number): number {
    const slot = (r >> 2) + ((g >> 2) << 6) + ((b >> 2) << 12);
    let hit = this.cache[slot]!;
    if (hit < 0) {
      const cr = r & 0xfc, cg = g & 0xfc, cb = b & 0xfc;
      let best = Infinity;
      const p = this.palette;
      for (let i = 0; i < p.length / 3; i++) {
        const d = (cr - p[i * 3]!) ** 2 + (cg - p[i * 3 + 1]!) ** 2 + (cb - p[i * 3 + 2]!) ** 2;
        if (d < best) {
          best = d;
          hit = i;
        }
      }
      this.cache[slot] = hit;
    }
    return hit;
  }
}

const clip8 = (v: number) => (v <= 0 ? 0 : v < 256 ? v : 255);

/** Maps every pixel to a palette entry; returns the mapped RGB triplets (Image.quantize(palette=..., dither)). */
export function mapToPalette(rgb: Uint8Array, width: number, height: number, palette: Uint8Array, dither: 'none' | 'floyd-steinberg'): Uint8Array {
  const cache = new PaletteCache(palette);
  const out = new Uint8Array(rgb.length);
  const put = (i: number, k: number) => {
    out[i * 3] = palette[k * 3]!;
    out[i * 3 + 1] = palette[k * 3 + 1]!;
    out[i * 3 + 2] = palette[k * 3 + 2]!;
  };
  if (dither === 'none') {
    for (let i = 0; i < width * height; i++) put(i, cache.lookup(rgb[i * 3]!, rgb[i * 3 + 1]!, rgb[i * 3 + 2]!));
    return out;
  }
  // ConvertToPalette.c topalette_colour_floyd_steinberg, including its integer arithmetic and the
  // end-of-row write of the blue terms into all three slots.
  const errors = new Int32Array((width + 1) * 3);
  for (let y = 0; y < height; y++) {
    let r = 0, r0 = 0, r1 = 0, g = 0, g0 = 0, g1 = 0, b = 0, b0 = 0, b1 = 0, b2 = 0;
    let e = 0;
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      r = clip8(rgb[i * 3]! + Math.trunc((r + errors[e + 3]!) / 16));
      g = clip8(rgb[i * 3 + 1]! + Math.trunc((g + errors[e + 4]!) / 16));
      b = clip8(rgb[i * 3 + 2]! + Math.trunc((b + errors[e + 5]!) / 16));
      const k = cache.lookup(r, g, b);
      put(i, k);
      r -= palette[k * 3]!;
      g -= palette[k * 3 + 1]!;
      b -= palette[k * 3 + 2]!;
      // Floyd-Steinberg weights 7 (right), 3 (below left), 5 (below), 1 (below right), in sixteenths.
      const r2 = r;
      let d2 = r + r;
      r += d2; errors[e] = r + r0; r += d2; r0 = r + r1; r1 = r2; r += d2;
      const g2 = g;
      d2 = g + g;
      g += d2; errors[e + 1] = g + g0; g += d2; g0 = g + g1; g1 = g2; g += d2;
      b2 = b;
      d2 = b + b;
      b += d2; errors[e + 2] = b + b0; b += d2; b0 = b + b1; b1 = b2; b += d2;
      e += 3;
    }
    errors[e] = b0;
    errors[e + 1] = b1;
    errors[e + 2] = b2;
  }
  return out;
}

/** ComfyUI's normalized_bayer_matrix(n): the 2^n x 2^n threshold map, values in (-0.5, 0.5). */
export function bayerMatrix(n: number): Float64Array {
  if (n === 0) return new Float64Array([0]);
  const prev = bayerMatrix(n - 1);
  const q = 4 ** n;
  const size = 1 << n;
  const half = size >> 1;
  const out = new Float64Array(size * size);
  const offsets = [[-1.5, 0.5], [1.5, -0.5]];
  for (let by = 0; by < 2; by++) {
    for (let bx = 0; bx < 2; bx++) {
      for (let i = 0; i < half; i++) {
        for (let j = 0; j < half; j++) out[(by * half + i) * size + bx * half + j] = (q * prev[i * half + j]! + offsets[by]![bx]!) / q;
      }
    }
  }
  return out;
}

/** ComfyUI Quantize.bayer: adds spread x the threshold map + 0.5 (spread = 512 / palette size), then maps without dither. */
export function bayerDither(rgb: Uint8Array, width: number, height: number, palette: Uint8Array, order: number): Uint8Array {
  const n = Math.log2(order);
  const m = bayerMatrix(n);
  const spread = (2 * 256) / (palette.length / 3);
  const shifted = new Uint8Array(rgb.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      // NOTE: float32 throughout, as NumPy keeps the float32 matrix float32 and torch adds in float32.
      const t = Math.fround(Math.fround(Math.fround(spread) * m[(y % order) * order + (x % order)]!) + 0.5);
      for (let c = 0; c < 3; c++) {
        const i = (y * width + x) * 3 + c;
        shifted[i] = Math.trunc(Math.min(255, Math.max(0, Math.fround(rgb[i]! + t))));
      }
    }
  }
  return mapToPalette(shifted, width, height, palette, 'none');
}
