import { describe, expect, it } from 'vitest';
import {
  BACKGROUND,
  classLabels,
  COLOURS,
  PLACEMENTS,
  PLACEMENTS_PER_SHAPE,
  prototypeIds,
  renderPrototype,
  renderShape,
  shapeCoverage,
  SHAPES,
  UnknownConceptError,
} from '../../toyworld/world.js';

describe('toyworld world', () => {
  it('has the colours and shapes of the spec', () => {
    expect(COLOURS.map((c) => c.name)).toEqual(expect.arrayContaining(['red', 'orange', 'yellow', 'green', 'cyan', 'blue', 'purple', 'black']));
    expect([...SHAPES]).toEqual(expect.arrayContaining(['circle', 'square', 'triangle', 'ring', 'cross']));
    expect(classLabels().length).toBe(COLOURS.length * SHAPES.length);
    expect(prototypeIds().length).toBe(COLOURS.length * SHAPES.length * PLACEMENTS_PER_SHAPE);
  });

  it('has at least 6 placements per shape, inside the frame', () => {
    expect(PLACEMENTS_PER_SHAPE).toBeGreaterThanOrEqual(6);
    for (const s of SHAPES) {
      expect(PLACEMENTS[s].length).toBe(PLACEMENTS_PER_SHAPE);
      for (const p of PLACEMENTS[s]) {
        expect(p.cx - p.size / 2).toBeGreaterThan(0);
        expect(p.cx + p.size / 2).toBeLessThan(1);
        expect(p.cy - p.size / 2).toBeGreaterThan(0);
        expect(p.cy + p.size / 2).toBeLessThan(1);
      }
      expect(new Set(PLACEMENTS[s].map((p) => `${p.cx},${p.cy}`)).size).toBe(PLACEMENTS_PER_SHAPE);
    }
  });

  it('shares placements across colours: a red and a blue circle have the same coverage', () => {
    const red = renderPrototype({ colour: 0, shape: 0, placement: 2 });
    const blue = renderPrototype({ colour: 5, shape: 0, placement: 2 });
    const bg = BACKGROUND[0] / 255;
    let worst = 0;
    let covered = 0;
    for (let i = 0; i < red.data.length; i += 3) {
      const covRed = (red.data[i] - bg) / (COLOURS[0].rgb[0] / 255 - bg);
      const covBlue = (blue.data[i] - bg) / (COLOURS[5].rgb[0] / 255 - bg);
      worst = Math.max(worst, Math.abs(covRed - covBlue));
      covered += covRed;
    }
    expect(worst).toBeLessThan(1e-5);
    expect(covered).toBeGreaterThan(1000);
  });

  it('renders anti-aliased shapes with the expected areas', () => {
    const n = 200;
    const area = (shape: (typeof SHAPES)[number]): number => shapeCoverage(shape, { cx: 0.5, cy: 0.5, size: 0.5 }, n, n).reduce((a, b) => a + b, 0);
    const r = 50;
    expect(area('circle') / (Math.PI * r * r)).toBeCloseTo(1, 2);
    expect(area('square') / (4 * r * r)).toBeCloseTo(1, 2);
    expect(area('triangle') / (Math.sqrt(3) * r * r)).toBeCloseTo(1, 2);
    expect(area('ring') / (Math.PI * r * r * (1 - 0.55 ** 2))).toBeCloseTo(1, 2);
    const cov = shapeCoverage('circle', { cx: 0.5, cy: 0.5, size: 0.5 }, n, n);
    expect(cov.some((v) => v > 0.05 && v < 0.95)).toBe(true);
  });

  it('renderShape paints the named colour inside and the background outside, at any resolution', () => {
    const img = renderShape({ colour: 'green', shape: 'square', cx: 0.25, cy: 0.75, size: 0.3, width: 120, height: 80 });
    expect(img.data.length).toBe(120 * 80 * 3);
    const px = (x: number, y: number): number[] => Array.from(img.data.subarray((y * 120 + x) * 3, (y * 120 + x) * 3 + 3), (v) => Math.round(v * 255));
    expect(px(30, 60)).toEqual([...COLOURS[3].rgb]);
    expect(px(110, 5)).toEqual([...BACKGROUND]);
    expect(() => renderShape({ colour: 'mauve', shape: 'ring', cx: 0.5, cy: 0.5, size: 0.3 })).toThrow(UnknownConceptError);
  });
});
