import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bayerDither, bayerMatrix, mapToPalette, medianCutPalette } from '../../imaging/quantize.js';
import { QUANTIZE_PILLOW } from '../fixtures/data-files.js';

interface Case { h: number; w: number; colors: number; dither: string; rgb: number[]; palette: number[]; out: number[] }
const { cases } = JSON.parse(readFileSync(QUANTIZE_PILLOW, 'utf8')) as { cases: Case[] };

describe("Pillow's median cut and palette mapping, as ComfyUI's ImageQuantize calls them", () => {
  it('gives the palettes Pillow gives, entry for entry', () => {
    for (const c of cases) {
      const pal = medianCutPalette(Uint8Array.from(c.rgb), c.colors);
      const used = Math.min(c.colors, pal.length / 3);
      expect(Array.from(pal), `${c.w}x${c.h} ${c.colors}`).toEqual(c.palette.slice(0, used * 3));
    }
  });

  it('maps pixels (none, Floyd-Steinberg, Bayer) exactly as Pillow 9.4 does with its 256-entry palette', () => {
    for (const c of cases) {
      const rgb = Uint8Array.from(c.rgb);
      // Pillow 9.4 pads the palette with black to 256 entries; current Pillow keeps only the used ones.
      const padded = new Uint8Array(768);
      padded.set(medianCutPalette(rgb, c.colors));
      const out = c.dither.startsWith('bayer')
        ? bayerDither(rgb, c.w, c.h, padded, Number(c.dither.split('-')[1]))
        : mapToPalette(rgb, c.w, c.h, padded, c.dither === 'none' ? 'none' : 'floyd-steinberg');
      expect(Array.from(out), `${c.w}x${c.h} ${c.dither}`).toEqual(c.out);
    }
  });

  it('keeps an image with no more colours than asked exactly, and splits the most populous box first', () => {
    const rgb = Uint8Array.from([255, 0, 0, 255, 0, 0, 0, 0, 255, 235, 235, 230]);
    expect(Array.from(medianCutPalette(rgb, 8)).sort((a, b) => a - b)).toEqual([0, 0, 0, 0, 230, 235, 235, 255, 255]);
    // Two colours asked of three: the first cut is along green (range 235 x 150 beats red's 255 x 77),
    // the grey alone above the median, red and blue averaged below: (255+255+0)/3 = 170, 0, 255/3 = 85.
    expect(Array.from(medianCutPalette(rgb, 2))).toEqual([235, 235, 230, 170, 0, 85]);
    const mapped = mapToPalette(rgb, 4, 1, medianCutPalette(rgb, 2), 'none');
    expect(Array.from(mapped)).toEqual([170, 0, 85, 170, 0, 85, 170, 0, 85, 235, 235, 230]);
  });

  it('builds ComfyUI normalized_bayer_matrix', () => {
    expect(Array.from(bayerMatrix(1))).toEqual([-0.375, 0.125, 0.375, -0.125]);
    const m2 = bayerMatrix(2);
    expect(m2.length).toBe(16);
    // Top-left block: (q m1 - 1.5) / q with q = 4^2.
    expect(m2[0]).toBeCloseTo((16 * -0.375 - 1.5) / 16, 12);
    expect(new Set(Array.from(m2)).size).toBe(16);
  });
});
