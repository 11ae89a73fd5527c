import { describe, expect, it } from 'vitest';
import { SeedSequence, SeedSequenceError, intToUint32Words } from '../../sampling/seed-sequence.js';

describe('SeedSequence (numpy.random.SeedSequence)', () => {
  // numpy/random/tests/test_seed_sequence.py test_reference_data (from O'Neill's C++ reference, pool size 4).
  const reference: [number[], number[]][] = [
    [[3735928559, 195939070, 229505742, 305419896], [3914649087, 576849849, 3593928901, 2229911004]],
    [[3668361503, 4165561550, 1661411377, 3634257570], [2240804226, 3691353228, 1365957195, 2654016646]],
    [[2766103236, 2883057919, 4029656435, 862374500], [296367413, 4262059219, 13109864, 3283683422]],
  ];
  for (const [words, expected] of reference) {
    it(`matches numpy's reference data for entropy words ${words[0]}, ...`, () => {
      // A list of words is the integer with those words, lowest first.
      const entropy = words.reduceRight((acc, w) => (acc << 32n) | BigInt(w), 0n);
      expect(Array.from(new SeedSequence(entropy).generateState(4))).toEqual(expected);
    });
  }

  // Values from numpy 2.4: np.random.SeedSequence(entropy, pool_size=..., spawn_key=...).generate_state(n).
  it('matches numpy with torchsde\'s pool size 24 and spawn keys (zero-padded run entropy)', () => {
    expect(Array.from(new SeedSequence(42, { poolSize: 24 }).generateState(3))).toEqual([387750627, 2536650517, 4078839648]);
    expect(Array.from(new SeedSequence(42, { poolSize: 24, spawnKey: [0, 0] }).generateState(4))).toEqual([2102017995, 2891809698, 2144110403, 379559146]);
    expect(Array.from(new SeedSequence(42, { poolSize: 24, spawnKey: [0, 1] }).generateState(4))).toEqual([2358011247, 1324446858, 2503364079, 1805454880]);
    expect(Array.from(new SeedSequence(42, { poolSize: 24, spawnKey: [1, 1] }).generateState(4))).toEqual([1058881542, 1039740124, 2218853409, 2234354429]);
    expect(Array.from(new SeedSequence(2n ** 64n - 1n, { poolSize: 24, spawnKey: [12345, 20] }).generateState(4))).toEqual([3785638273, 3708406057, 4037608210, 1022976]);
    expect(Array.from(new SeedSequence(12345, { poolSize: 24 }).generateState(3))).toEqual([2888090517, 4151165838, 1159728038]);
  });

  it('takes integers above 2^32 as several words (numpy default pool size 4, more words than the pool)', () => {
    expect(intToUint32Words(0)).toEqual([0]);
    expect(intToUint32Words(2n ** 40n + 3n)).toEqual([3, 256]);
    expect(Array.from(new SeedSequence(2n ** 40n + 3n).generateState(5))).toEqual([2789635316, 1410910647, 811316306, 1804054328, 1649660561]);
  });

  it('refuses what numpy refuses', () => {
    expect(() => new SeedSequence(-1)).toThrow(SeedSequenceError);
    expect(() => new SeedSequence(1, { poolSize: 3 })).toThrow(SeedSequenceError);
  });
});
