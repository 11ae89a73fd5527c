import { describe, it, expect } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { combine, expandRange, parseSweep, MAX_JOBS } from '../../../cli/batch/sweep.js';

describe('parseSweep', () => {
  it('expands inclusive ranges in either direction, exactly beyond 2^53', async () => {
    expect((await parseSweep('seed=1..4')).values).toEqual(['1', '2', '3', '4']);
    expect((await parseSweep('seed=3..1')).values).toEqual(['3', '2', '1']);
    expect((await parseSweep('seed=18446744073709551614..18446744073709551615')).values).toEqual(['18446744073709551614', '18446744073709551615']);
    expect(() => expandRange(0n, BigInt(MAX_JOBS), 'seed=0..')).toThrow(/more than/);
  });

  it('reads lists, single values and @files (one value per non-blank line)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'lf-sweep-'));
    await writeFile(path.join(dir, 'p.txt'), 'a red circle\r\n\na blue square\n');
    expect(await parseSweep('6.text=@p.txt', dir)).toEqual({ target: '6.text', values: ['a red circle', 'a blue square'] });
    expect((await parseSweep('Scale.upscale_method=bilinear, nearest-exact')).values).toEqual(['bilinear', 'nearest-exact']);
    expect((await parseSweep('6.text=a cat')).values).toEqual(['a cat']);
    await expect(parseSweep('6.text=@nope.txt', dir)).rejects.toThrow(/cannot read/);
    await expect(parseSweep('novalue')).rejects.toThrow(/expected <target>=<values>/);
  });
});

describe('combine', () => {
  it('is the cartesian product: rows outer, the last axis fastest', () => {
    const jobs = combine(
      [
        { label: 'r row 1', overrides: [['a.x', 1]] },
        { label: 'r row 2', overrides: [['a.x', 2]] },
      ],
      [
        { target: 'seed', values: ['1', '2'] },
        { target: '6.text', values: ['p', 'q', 'r'] },
      ],
    );
    expect(jobs).toHaveLength(12);
    expect(jobs[0]).toEqual({ label: 'r row 1, sweep seed=1 6.text=p', overrides: [['a.x', 1], ['seed', '1'], ['6.text', 'p']] });
    expect(jobs[1]!.overrides).toEqual([['a.x', 1], ['seed', '1'], ['6.text', 'q']]);
    expect(jobs[3]!.overrides).toEqual([['a.x', 1], ['seed', '2'], ['6.text', 'p']]);
    expect(jobs[11]!.overrides).toEqual([['a.x', 2], ['seed', '2'], ['6.text', 'r']]);
  });

  it('without a batch file, the grid alone; without sweeps, the rows alone', () => {
    expect(combine(undefined, [{ target: 'seed', values: ['7', '8'] }]).map((j) => j.label)).toEqual(['sweep seed=7', 'sweep seed=8']);
    expect(combine([{ label: 'r row 1', overrides: [] }], [])).toEqual([{ label: 'r row 1', overrides: [] }]);
  });
});
