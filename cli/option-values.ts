import { InvalidArgumentError } from 'commander';

/** commander argParser of a repeatable option: each use appends. */
export function collect(value: string, prev: string[]): string[] {
  return [...prev, value];
}

/** commander argParser of counts (jobs, rows, milliseconds). */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number >= 1');
  return n;
}
