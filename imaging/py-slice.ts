/** Python slice bounds [start:stop] on an axis of length n, as the indices it keeps. */
export function pySlice(start: number, stop: number, n: number): [from: number, to: number] {
  const norm = (i: number) => (i < 0 ? Math.max(0, i + n) : Math.min(i, n));
  const a = norm(start);
  return [a, Math.max(a, norm(stop))];
}
