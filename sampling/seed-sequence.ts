/**
 * numpy.random.SeedSequence (numpy/random/bit_generator.pyx, after O'Neill's seed_seq_fe): hashes an entropy
 * integer and a spawn key into a pool of 32-bit words and draws seeding words from it. torchsde's Brownian
 * interval seeds every node's torch generators with these words.
 */

const INIT_A = 0x43b0d7e5;
const MULT_A = 0x931e8875;
const INIT_B = 0x8b51f9dd;
const MULT_B = 0x58f38ded;
const MIX_MULT_L = 0xca01f9dd;
const MIX_MULT_R = 0x4973f715;

/** Thrown for negative or non-integer entropy or spawn-key values, which numpy refuses too. */
export class SeedSequenceError extends Error {
  override readonly name = 'SeedSequenceError';
}

/** numpy's _int_to_uint32_array: a non-negative integer as 32-bit words, lowest first; 0 is one word. */
export function intToUint32Words(n: bigint | number): number[] {
  let v: bigint;
  if (typeof n === 'bigint') v = n;
  else if (Number.isSafeInteger(n)) v = BigInt(n);
  else throw new SeedSequenceError(`${n} is not a safe integer; pass a bigint`);
  if (v < 0n) throw new SeedSequenceError('expected non-negative integer');
  if (v === 0n) return [0];
  const words: number[] = [];
  while (v > 0n) {
    words.push(Number(v & 0xffffffffn));
    v >>= 32n;
  }
  return words;
}

/** One step of the seed_seq_fe hash; the multiplier is state carried between calls. */
class HashMix {
  private hashConst = INIT_A;

  next(value: number): number {
    let v = (value ^ this.hashConst) >>> 0;
    this.hashConst = Math.imul(this.hashConst, MULT_A) >>> 0;
    v = Math.imul(v, this.hashConst) >>> 0;
    return (v ^ (v >>> 16)) >>> 0;
  }
}

function mix(x: number, y: number): number {
  const r = (Math.imul(MIX_MULT_L, x) - Math.imul(MIX_MULT_R, y)) >>> 0;
  return (r ^ (r >>> 16)) >>> 0;
}

export interface SeedSequenceOptions {
  /** Extra entropy from the position in a spawn tree (numpy's spawn_key). */
  spawnKey?: readonly (bigint | number)[];
  /** Pool size in 32-bit words, at least 4 (numpy's default). */
  poolSize?: number;
}

export class SeedSequence {
  readonly pool: Uint32Array;

  constructor(entropy: bigint | number, opts: SeedSequenceOptions = {}) {
    const poolSize = opts.poolSize ?? 4;
    if (!Number.isInteger(poolSize) || poolSize < 4) throw new SeedSequenceError(`pool size ${poolSize} is below 4`);
    const spawnKey = opts.spawnKey ?? [];
    let run = intToUint32Words(entropy);
    const spawn = spawnKey.flatMap((k) => intToUint32Words(k));
    // NOTE: numpy >= 1.19 pads the run entropy with zeros to the pool size when there is a spawn key (gh-16539).
    if (spawn.length > 0 && run.length < poolSize) run = [...run, ...new Array<number>(poolSize - run.length).fill(0)];
    this.pool = mixEntropy(poolSize, [...run, ...spawn]);
  }

  /** generate_state(n) as uint32 words. */
  generateState(n: number): Uint32Array {
    const out = new Uint32Array(n);
    let hashConst = INIT_B;
    for (let i = 0; i < n; i++) {
      let v = (this.pool[i % this.pool.length] ^ hashConst) >>> 0;
      hashConst = Math.imul(hashConst, MULT_B) >>> 0;
      v = Math.imul(v, hashConst) >>> 0;
      out[i] = (v ^ (v >>> 16)) >>> 0;
    }
    return out;
  }
}

/** numpy SeedSequence.mix_entropy: hash the words into the pool, mix every word into every other, fold in the rest. */
function mixEntropy(poolSize: number, entropy: readonly number[]): Uint32Array {
  const pool = new Uint32Array(poolSize);
  const h = new HashMix();
  for (let i = 0; i < poolSize; i++) pool[i] = h.next(i < entropy.length ? entropy[i] : 0);
  for (let src = 0; src < poolSize; src++) {
    for (let dst = 0; dst < poolSize; dst++) if (src !== dst) pool[dst] = mix(pool[dst], h.next(pool[src]));
  }
  for (let src = poolSize; src < entropy.length; src++) {
    for (let dst = 0; dst < poolSize; dst++) pool[dst] = mix(pool[dst], h.next(entropy[src]));
  }
  return pool;
}
