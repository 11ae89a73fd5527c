/**
 * GPT-2 / CLIP bytes_to_unicode (openai/CLIP simple_tokenizer.py): printable Latin-1 bytes map to
 * themselves, the other 68 bytes to U+0100 onwards, so every byte string becomes a whitespace-free string.
 * The returned list is in openai's order (printable bytes first), which openai's vocabulary is built from.
 */
export function bytesToUnicodeOrdered(): Array<[number, string]> {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  return bs.map((b, i) => [b, String.fromCharCode(cs[i])]);
}

const ORDERED = bytesToUnicodeOrdered();
/** byte -> unicode character. */
export const BYTE_ENCODER: readonly string[] = (() => {
  const enc = new Array<string>(256);
  for (const [b, c] of ORDERED) enc[b] = c;
  return enc;
})();
/** unicode character -> byte. */
export const BYTE_DECODER: ReadonlyMap<string, number> = new Map(ORDERED.map(([b, c]) => [c, b]));
/** The 256 byte symbols in openai's vocabulary order. */
export const BYTE_SYMBOLS: readonly string[] = ORDERED.map(([, c]) => c);
