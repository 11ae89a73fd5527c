import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { JsonValue } from '../../engine/index.js';
import { BatchInputError } from './errors.js';
import type { BatchRow, Override } from './batch-file.js';

/** One `--sweep target=values` axis; values stay text until validation converts them. */
export interface SweepAxis {
  readonly target: string;
  readonly values: readonly string[];
}

// NOTE: a cap so that a typo such as `seed=1..10000000000` fails fast instead of exhausting memory.
export const MAX_JOBS = 1_000_000;

const RANGE = /^\s*(-?\d+)\s*\.\.\s*(-?\d+)\s*$/;

/** Expands `a..b` (inclusive integers, either direction, exact beyond 2^53) to its values. */
export function expandRange(a: bigint, b: bigint, spec: string): string[] {
  const n = (a <= b ? b - a : a - b) + 1n;
  if (n > BigInt(MAX_JOBS)) throw new BatchInputError([`--sweep ${spec}: ${n} values is more than ${MAX_JOBS}`]);
  const step = a <= b ? 1n : -1n;
  const out: string[] = [];
  for (let v = a, i = 0n; i < n; i++, v += step) out.push(v.toString());
  return out;
}

/**
 * Parses `target=spec`: `a..b` an integer range, `@file` one value per non-blank line (relative to
 * `cwd`), `a,b,c` a list, anything else a single value.
 */
export async function parseSweep(arg: string, cwd = process.cwd()): Promise<SweepAxis> {
  const eq = arg.indexOf('=');
  if (eq <= 0) throw new BatchInputError([`--sweep '${arg}': expected <target>=<values> (a..b, a,b,c or @file)`]);
  const target = arg.slice(0, eq).trim();
  const spec = arg.slice(eq + 1);
  let values: string[];
  const range = RANGE.exec(spec);
  if (range) values = expandRange(BigInt(range[1]!), BigInt(range[2]!), arg);
  else if (spec.startsWith('@')) {
    const file = path.resolve(cwd, spec.slice(1));
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw new BatchInputError([`--sweep ${target}: cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`]);
    }
    values = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  } else values = spec.includes(',') ? spec.split(',').map((s) => s.trim()) : [spec];
  if (!values.length) throw new BatchInputError([`--sweep ${target}: no values`]);
  return { target, values };
}

/** A job before planning: its source label and the overrides to apply, in order. */
export interface JobSource {
  readonly label: string;
  readonly overrides: readonly Override[];
}

/**
 * Every batch row combined with every point of the sweep grid (cartesian product). Rows are the
 * outer loop; among the axes the last one varies fastest, as nested loops written in order.
 */
export function combine(rows: readonly BatchRow[] | undefined, axes: readonly SweepAxis[]): JobSource[] {
  const base: readonly BatchRow[] = rows ?? [{ label: '', overrides: [] }];
  const total = axes.reduce((n, a) => n * a.values.length, base.length);
  if (total > MAX_JOBS) throw new BatchInputError([`the batch has ${total} jobs, more than ${MAX_JOBS}`]);
  const out: JobSource[] = [];
  const idx = axes.map(() => 0);
  for (const row of base) {
    for (let k = 0; k < total / base.length; k++) {
      let rem = k;
      for (let a = axes.length - 1; a >= 0; a--) {
        const len = axes[a]!.values.length;
        idx[a] = rem % len;
        rem = Math.floor(rem / len);
      }
      const sweep: Override[] = axes.map((a, i) => [a.target, a.values[idx[i]!]! satisfies JsonValue]);
      const point = axes.map((a, i) => `${a.target}=${a.values[idx[i]!]}`).join(' ');
      const label = [row.label, point && `sweep ${point}`].filter(Boolean).join(', ');
      out.push({ label, overrides: [...row.overrides, ...sweep] });
    }
  }
  return out;
}
