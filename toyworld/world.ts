/**
 * The toyworld: coloured shapes on a light background (spec/toyworld.md, "The world"). Shapes are
 * drawn from signed distance functions (Quilez, "2D distance functions") with a one-pixel coverage
 * ramp for anti-aliasing.
 */
import { mulberry32 } from './prng.js';

export interface Colour {
  readonly name: string;
  /** sRGB 0..255. */
  readonly rgb: readonly [number, number, number];
}

export const COLOURS: readonly Colour[] = [
  { name: 'red', rgb: [220, 30, 30] },
  { name: 'orange', rgb: [245, 140, 20] },
  { name: 'yellow', rgb: [240, 220, 30] },
  { name: 'green', rgb: [40, 170, 60] },
  { name: 'cyan', rgb: [30, 200, 220] },
  { name: 'blue', rgb: [30, 60, 220] },
  { name: 'purple', rgb: [140, 50, 190] },
  { name: 'black', rgb: [20, 20, 20] },
];

export const BACKGROUND: readonly [number, number, number] = [235, 235, 230];

export const SHAPES = ['circle', 'square', 'triangle', 'ring', 'cross'] as const;
export type ShapeName = (typeof SHAPES)[number];

/** A placement: centre as fractions of the frame, size as the shape's width over the frame's. */
export interface Placement {
  readonly cx: number;
  readonly cy: number;
  readonly size: number;
}

/** Thrown for unknown colour or shape names. */
export class UnknownConceptError extends Error {
  override readonly name = 'UnknownConceptError';
}

export const PLACEMENTS_PER_SHAPE = 8;
const PLACEMENT_SEED = 20240611;

function makePlacements(): Record<ShapeName, Placement[]> {
  const out: Record<ShapeName, Placement[]> = { circle: [], square: [], triangle: [], ring: [], cross: [] };
  SHAPES.forEach((shape, si) => {
    const rand = mulberry32(PLACEMENT_SEED + 7919 * si);
    for (let v = 0; v < PLACEMENTS_PER_SHAPE; v++) {
      const size = 0.3 + 0.25 * rand();
      const lo = size / 2 + 0.06;
      const cx = lo + (1 - 2 * lo) * rand();
      const cy = lo + (1 - 2 * lo) * rand();
      out[shape].push({ cx: round4(cx), cy: round4(cy), size: round4(size) });
    }
  });
  return out;
}

/** The V fixed placements of each shape, shared by every colour. */
export const PLACEMENTS: Readonly<Record<ShapeName, readonly Placement[]>> = makePlacements();

function round4(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

function sdBox(x: number, y: number, bx: number, by: number): number {
  const dx = Math.abs(x) - bx;
  const dy = Math.abs(y) - by;
  return Math.hypot(Math.max(dx, 0), Math.max(dy, 0)) + Math.min(Math.max(dx, dy), 0);
}

/** Equilateral triangle of side 2, apex up, centroid at the origin (y grows downwards). */
function sdTriangle(x: number, yDown: number): number {
  const k = Math.sqrt(3);
  let px = Math.abs(x) - 1;
  let py = -yDown + 1 / k;
  if (px + k * py > 0) {
    const nx = (px - k * py) / 2;
    const ny = (-k * px - py) / 2;
    px = nx;
    py = ny;
  }
  px -= Math.min(Math.max(px, -2), 0);
  return -Math.hypot(px, py) * Math.sign(py);
}

export const RING_INNER = 0.55;
export const CROSS_ARM = 0.3;

/** Signed distance to a shape of half-width 1 centred at the origin (negative inside). */
export function shapeSdf(shape: ShapeName, x: number, y: number): number {
  switch (shape) {
    case 'circle':
      return Math.hypot(x, y) - 1;
    case 'square':
      return sdBox(x, y, 1, 1);
    case 'triangle':
      return sdTriangle(x, y);
    case 'ring': {
      const mid = (1 + RING_INNER) / 2;
      return Math.abs(Math.hypot(x, y) - mid) - (1 - RING_INNER) / 2;
    }
    case 'cross':
      return Math.min(sdBox(x, y, 1, CROSS_ARM), sdBox(x, y, CROSS_ARM, 1));
  }
}

/**
 * Coverage (0..1) of a shape on a width x height pixel grid, row-major. The centre is in fractions of
 * the frame, `size` is the shape's width as a fraction of min(width, height).
 */
export function shapeCoverage(shape: ShapeName, p: Placement, width: number, height: number): Float32Array {
  const half = (p.size * Math.min(width, height)) / 2;
  const cx = p.cx * width;
  const cy = p.cy * height;
  const out = new Float32Array(width * height);
  for (let j = 0; j < height; j++) {
    const y = (j + 0.5 - cy) / half;
    for (let i = 0; i < width; i++) {
      const d = shapeSdf(shape, (i + 0.5 - cx) / half, y) * half;
      out[j * width + i] = Math.min(1, Math.max(0, 0.5 - d));
    }
  }
  return out;
}

export function colourByName(name: string): Colour {
  const c = COLOURS.find((k) => k.name === name);
  if (!c) throw new UnknownConceptError(`unknown colour "${name}"`);
  return c;
}

export function isShape(name: string): name is ShapeName {
  return SHAPES.some((s) => s === name);
}

export interface RenderOptions {
  /** A colour name of the world or any sRGB triple (0..255). */
  colour: string | readonly [number, number, number];
  shape: ShapeName;
  cx: number;
  cy: number;
  size: number;
  width?: number;
  height?: number;
  background?: readonly [number, number, number];
}

/** An RGB image, row-major height x width x 3, values 0..1 (ComfyUI's IMAGE layout for one image). */
export interface RgbImage {
  width: number;
  height: number;
  data: Float32Array;
}

/** Renders one shape anywhere, at any size and resolution (256x256 by default). */
export function renderShape(opts: RenderOptions): RgbImage {
  const width = opts.width ?? 256;
  const height = opts.height ?? 256;
  const rgb = typeof opts.colour === 'string' ? colourByName(opts.colour).rgb : opts.colour;
  const bg = opts.background ?? BACKGROUND;
  const cov = shapeCoverage(opts.shape, { cx: opts.cx, cy: opts.cy, size: opts.size }, width, height);
  const data = new Float32Array(width * height * 3);
  for (let i = 0; i < cov.length; i++) {
    for (let c = 0; c < 3; c++) data[i * 3 + c] = (bg[c] + cov[i] * (rgb[c] - bg[c])) / 255;
  }
  return { width, height, data };
}

export interface PrototypeId {
  colour: number;
  shape: number;
  placement: number;
}

/** Prototype k = (colour * SHAPES + shape) * V + placement; its class is colour * SHAPES + shape. */
export function prototypeIds(): PrototypeId[] {
  const ids: PrototypeId[] = [];
  for (let c = 0; c < COLOURS.length; c++) {
    for (let s = 0; s < SHAPES.length; s++) {
      for (let v = 0; v < PLACEMENTS_PER_SHAPE; v++) ids.push({ colour: c, shape: s, placement: v });
    }
  }
  return ids;
}

/** Class labels "colour shape", in class-index order. */
export function classLabels(): string[] {
  return COLOURS.flatMap((c) => SHAPES.map((s) => `${c.name} ${s}`));
}

/** The prototype image (256x256) of a colour, shape and placement. */
export function renderPrototype(id: PrototypeId): RgbImage {
  const shape = SHAPES[id.shape];
  const p = PLACEMENTS[shape][id.placement];
  return renderShape({ colour: COLOURS[id.colour].rgb, shape, cx: p.cx, cy: p.cy, size: p.size });
}
