/**
 * Mersenne Twister MT19937 (Matsumoto & Nishimura 1998), the engine behind PyTorch's CPU generator
 * (aten/src/ATen/core/MT19937RNGEngine.h); bit-identical to std::mt19937.
 */
export class Mt19937 {
  private readonly state = new Uint32Array(624);
  private index = 624;

  /** Standard initialisation from a 32-bit seed. */
  constructor(seed: number) {
    const s = this.state;
    s[0] = seed >>> 0;
    for (let j = 1; j < 624; j++) {
      const prev = s[j - 1] ^ (s[j - 1] >>> 30);
      s[j] = (Math.imul(1812433253, prev) + j) >>> 0;
    }
  }

  /** The next tempered 32-bit output, as an unsigned number. */
  next32(): number {
    if (this.index >= 624) this.twist();
    let y = this.state[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  private twist(): void {
    const s = this.state;
    for (let i = 0; i < 624; i++) {
      const y = (s[i] & 0x80000000) | (s[(i + 1) % 624] & 0x7fffffff);
      let v = s[(i + 397) % 624] ^ (y >>> 1);
      if (y & 1) v ^= 0x9908b0df;
      s[i] = v >>> 0;
    }
    this.index = 0;
  }
}
