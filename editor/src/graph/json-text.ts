const MARK = '\u0000bigint:';
/** JSON.stringify escapes the NUL, so the marker shows up as `\\u0000` in the text. */
const MARKED = /"\\u0000bigint:(-?\d+)"/g;

/**
 * JSON text with bigints written as exact integers (seeds up to 2^64 - 1). Native JSON.stringify
 * with a marker pass: the editor autosaves 500-node graphs, where lossless-json's stringify is slow.
 */
export function stringifyExact(value: unknown, indent?: number): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? MARK + v.toString() : v), indent).replace(MARKED, '$1');
}
