import { describe, it, expect } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseCsvRows, parseJsonlRows, readBatchFile } from '../../../cli/batch/batch-file.js';
import { BatchInputError } from '../../../cli/batch/errors.js';

describe('parseJsonlRows', () => {
  it('reads one override object per line, skipping blank lines, with exact big seeds', () => {
    const rows = parseJsonlRows('{"6.text":"a red circle","seed":18446744073709551615}\n\n{"Scale.width":64}\n', 'b.jsonl');
    expect(rows).toEqual([
      { label: 'b.jsonl row 1 (line 1)', overrides: [['6.text', 'a red circle'], ['seed', 18446744073709551615n]] },
      { label: 'b.jsonl row 2 (line 3)', overrides: [['Scale.width', 64]] },
    ]);
  });

  it('reports every bad row with its row and line number', () => {
    let err: unknown;
    try {
      parseJsonlRows('{"a.b":1}\n{"a.b":[1,2]}\n[1]\n{oops\n', 'b.jsonl');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BatchInputError);
    const problems = (err as BatchInputError).problems;
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^b\.jsonl row 2 \(line 2\): 'a\.b' is not a string/);
    expect(problems[1]).toMatch(/^b\.jsonl row 3 \(line 3\): expected an object/);
    expect(problems[2]).toMatch(/^b\.jsonl row 4 \(line 4\): invalid JSON/);
  });
});

describe('parseCsvRows', () => {
  it('keeps cells as text, honours quotes, and treats an empty cell as no override', () => {
    const rows = parseCsvRows('6.text,seed\n"a red circle, big",1\n,2\n"two\nlines",3\n', 'b.csv');
    expect(rows).toEqual([
      { label: 'b.csv row 1 (line 2)', overrides: [['6.text', 'a red circle, big'], ['seed', '1']] },
      { label: 'b.csv row 2 (line 3)', overrides: [['seed', '2']] },
      { label: 'b.csv row 3 (line 5)', overrides: [['6.text', 'two\nlines'], ['seed', '3']] },
    ]);
  });

  it('reports a ragged row with its line', () => {
    expect(() => parseCsvRows('a.b,c.d\n1,2\n3,4,5\n', 'b.csv')).toThrow(/b\.csv \(line 3\)/);
  });
});

describe('readBatchFile', () => {
  it('dispatches on the extension and refuses unknown ones and empty files', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'lf-rows-'));
    await writeFile(path.join(dir, 'r.tsv'), 'seed\tScale.width\n1\t8\n');
    await writeFile(path.join(dir, 'r.txt'), 'seed\n1\n');
    await writeFile(path.join(dir, 'e.csv'), 'seed\n');
    expect(await readBatchFile(path.join(dir, 'r.tsv'))).toEqual([{ label: 'r.tsv row 1 (line 2)', overrides: [['seed', '1'], ['Scale.width', '8']] }]);
    await expect(readBatchFile(path.join(dir, 'r.txt'))).rejects.toThrow(/unknown batch file type/);
    await expect(readBatchFile(path.join(dir, 'e.csv'))).rejects.toThrow(/no rows/);
    await expect(readBatchFile(path.join(dir, 'missing.csv'))).rejects.toBeInstanceOf(BatchInputError);
  });
});
