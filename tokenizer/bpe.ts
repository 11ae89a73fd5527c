/**
 * Byte-pair encoding with a word-final `</w>` marker (Sennrich et al. 2016; openai/CLIP simple_tokenizer.py
 * `bpe`): repeatedly merge every occurrence of the adjacent pair with the lowest merge rank.
 */
export class BytePairEncoder {
  private readonly ranks = new Map<string, number>();
  private readonly cache = new Map<string, string[]>();

  constructor(merges: ReadonlyArray<readonly [string, string]>, private readonly maxCache = 50000) {
    merges.forEach(([a, b], i) => {
      const key = `${a} ${b}`;
      if (!this.ranks.has(key)) this.ranks.set(key, i);
    });
  }

  get mergeCount(): number {
    return this.ranks.size;
  }

  /** Splits one byte-encoded word into BPE symbols, the last one ending in `</w>`. */
  encodeWord(token: string): string[] {
    const cached = this.cache.get(token);
    if (cached) return cached;
    const chars = Array.from(token);
    if (chars.length === 0) return [];
    let word = [...chars.slice(0, -1), `${chars[chars.length - 1]}</w>`];
    while (word.length > 1) {
      let best = Infinity;
      let first = '';
      let second = '';
      for (let i = 0; i < word.length - 1; i++) {
        const r = this.ranks.get(`${word[i]} ${word[i + 1]}`);
        if (r !== undefined && r < best) {
          best = r;
          first = word[i];
          second = word[i + 1];
        }
      }
      if (best === Infinity) break;
      const merged: string[] = [];
      for (let i = 0; i < word.length; ) {
        if (word[i] === first && i < word.length - 1 && word[i + 1] === second) {
          merged.push(first + second);
          i += 2;
        } else {
          merged.push(word[i]);
          i += 1;
        }
      }
      word = merged;
    }
    if (this.cache.size >= this.maxCache) this.cache.clear();
    this.cache.set(token, word);
    return word;
  }
}
