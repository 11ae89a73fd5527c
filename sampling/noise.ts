import { Tensor, sizeOf } from '../runtime/tensor.js';
import { Mt19937 } from './mt19937.js';
import { logf256, sincosf256 } from './avx-mathfun.js';

/** Thrown for a seed that is not an integer in [0, 2^64 - 1]. */
export class InvalidSeedError extends Error {
  override readonly name = 'InvalidSeedError';
}

/** Thrown when a batch index list for prepareNoise is malformed. */
export class InvalidBatchIndexError extends Error {
  override readonly name = 'InvalidBatchIndexError';
}

export type Seed = bigint | number;

const TWO_POW_64 = 1n << 64n;
const TWO_PI_F32 = Math.fround(2 * Math.PI);
const f = Math.fround;

/** Reduces a seed to the 32 bits PyTorch's MT19937 is initialised with (seed mod 2^32). */
export function seedTo32(seed: Seed): number {
  let big: bigint;
  if (typeof seed === 'bigint') big = seed;
  else {
    if (!Number.isSafeInteger(seed)) {
      throw new InvalidSeedError(`seed ${seed} is not a safe integer; pass a bigint for seeds above 2^53`);
    }
    big = BigInt(seed);
  }
  if (big < 0n || big >= TWO_POW_64) throw new InvalidSeedError(`seed ${big} is outside [0, 2^64 - 1]`);
  return Number(big & 0xffffffffn);
}

/**
 * PyTorch's CPU generator: `torch.Generator().manual_seed(seed)` and `torch.randn(shape, generator=g)`
 * for float32 (aten/src/ATen/native/cpu/DistributionTemplates.h, normal_fill / normal_distribution<double>).
 * State continues across calls, including the cached second Box-Muller value of the scalar path.
 */
export class TorchGenerator {
  private engine: Mt19937;
  private cachedNormal: number | null = null;

  constructor(seed: Seed = 67280421310721n) {
    this.engine = new Mt19937(seedTo32(seed));
  }

  /** Re-seeds like `Generator.manual_seed`: a fresh engine and no cached normal. */
  manualSeed(seed: Seed): this {
    this.engine = new Mt19937(seedTo32(seed));
    this.cachedNormal = null;
    return this;
  }

  /** One 32-bit engine output. */
  random32(): number {
    return this.engine.next32();
  }

  /** at::uniform_real_distribution<float>(0, 1): 24 random bits. */
  private uniformFloat(): number {
    return (this.engine.next32() & 0xffffff) * 2 ** -24;
  }

  /** at::uniform_real_distribution<double>(0, 1): 53 bits of a 64-bit draw (first draw = high word). */
  private uniformDouble(): number {
    const hi = this.engine.next32();
    const lo = this.engine.next32();
    return ((hi & 0x1fffff) * 4294967296 + lo) * 2 ** -53;
  }

  /** at::normal_distribution<double>: Box-Muller in double with one cached value. */
  private normalDouble(): number {
    if (this.cachedNormal !== null) {
      const v = this.cachedNormal;
      this.cachedNormal = null;
      return v;
    }
    const u1 = this.uniformDouble();
    const u2 = this.uniformDouble();
    const r = Math.sqrt(-2 * Math.log1p(-u2));
    const theta = 2 * Math.PI * u1;
    this.cachedNormal = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** `torch.randn(shape, generator=this)` as float32. */
  randn(shape: readonly number[]): Tensor {
    const n = sizeOf(shape);
    const out = new Float32Array(n);
    if (n < 16) {
      for (let i = 0; i < n; i++) out[i] = this.normalDouble();
      return new Tensor('float32', out, shape);
    }
    for (let i = 0; i < n; i++) out[i] = this.uniformFloat();
    for (let o = 0; o + 16 <= n; o += 16) boxMuller16(out, o);
    if (n % 16 !== 0) {
      // NOTE: PyTorch redraws the last 16 positions and transforms them again (overlapping the previous block).
      const o = n - 16;
      for (let j = 0; j < 16; j++) out[o + j] = this.uniformFloat();
      boxMuller16(out, o);
    }
    return new Tensor('float32', out, shape);
  }

  /** `torch.randn_like(t, generator=this)`. */
  randnLike(t: Tensor<'float32'>): Tensor {
    return this.randn(t.shape);
  }
}

/**
 * PyTorch's normal_fill_16_AVX2 (aten/src/ATen/native/cpu/DistributionTemplates.h): Box-Muller over the 8 pairs
 * (u[j], u[j+8]) in float32, radius sqrt(-2 log(1 - u[j])), angle float32(2 pi) * u[j+8], with the AVX2 log
 * and sincos of avx_mathfun.h (see avx-mathfun.ts); bit-identical to PyTorch on an AVX2 CPU. The trailing
 * `fmadd(n, std, mean)` with std 1 and mean 0 returns n unchanged, so it is left out.
 */
const SINCOS = { sin: 0, cos: 0 };

function boxMuller16(data: Float32Array, o: number): void {
  for (let j = 0; j < 8; j++) {
    const u1 = f(1 - data[o + j]);
    const u2 = data[o + j + 8];
    const radius = f(Math.sqrt(f(-2 * logf256(u1))));
    sincosf256(f(TWO_PI_F32 * u2), SINCOS);
    data[o + j] = f(radius * SINCOS.cos);
    data[o + j + 8] = f(radius * SINCOS.sin);
  }
}

/** `torch.randn(shape, generator=torch.Generator().manual_seed(seed))`. */
export function randn(shape: readonly number[], seed: Seed): Tensor {
  return new TorchGenerator(seed).randn(shape);
}

/** `torch.randn_like(t)` from a given generator. */
export function randnLike(t: Tensor<'float32'>, generator: TorchGenerator): Tensor {
  return generator.randnLike(t);
}

/**
 * ComfyUI `comfy.sample.prepare_noise`: one randn tensor for the whole batch; with batch indices, one
 * [1, ...] draw per index up to max(index) in order, keeping the rows that were asked for.
 */
export function prepareNoise(latent: Tensor<'float32'>, seed: Seed, batchIndex?: readonly number[]): Tensor {
  const gen = new TorchGenerator(seed);
  if (batchIndex === undefined || batchIndex.length === 0) return gen.randn(latent.shape);
  for (const i of batchIndex) {
    if (!Number.isInteger(i) || i < 0) throw new InvalidBatchIndexError(`batch index ${i} is not a non-negative integer`);
  }
  const rowShape = [1, ...latent.shape.slice(1)];
  const rowSize = sizeOf(rowShape);
  const maxIndex = Math.max(...batchIndex);
  const wanted = new Set(batchIndex);
  const rows = new Map<number, Float32Array>();
  for (let i = 0; i <= maxIndex; i++) {
    const row = gen.randn(rowShape);
    if (wanted.has(i)) rows.set(i, row.data);
  }
  const out = new Float32Array(batchIndex.length * rowSize);
  batchIndex.forEach((idx, k) => {
    const row = rows.get(idx);
    if (row) out.set(row, k * rowSize);
  });
  return new Tensor('float32', out, [batchIndex.length, ...latent.shape.slice(1)]);
}
