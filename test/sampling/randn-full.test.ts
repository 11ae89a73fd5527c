import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { TorchGenerator } from '../../sampling/noise.js';
import { TORCH_FULL, describeWith } from '../fixtures/shared-data.js';

// Full torch.randn tensors from PyTorch on an AVX2 CPU; large, so read from the shared folder, not vendored.
const MANIFEST = TORCH_FULL.file('randn_full.json');

interface FullCase { seed: string; shape: number[]; file: string }
interface Manifest { cases: FullCase[]; sequential_seed7: { draw: number; shape: number[]; file: string }[] }

/** A float32 file as a Float32Array (copied: a small Buffer may sit at an unaligned offset of a shared pool). */
function readF32(file: string): Float32Array {
  return new Float32Array(new Uint8Array(readFileSync(TORCH_FULL.file(file))).buffer);
}

/** Distance in float32 units in the last place. */
function ulps(a: number, b: number): number {
  const ints = new Int32Array(new Float32Array([a, b]).buffer);
  const ordered = (i: number): number => (i < 0 ? -(i & 0x7fffffff) : i);
  return Math.abs(ordered(ints[0]) - ordered(ints[1]));
}

function compare(got: Float32Array, want: Float32Array): { off: number; maxUlp: number; first?: string } {
  expect(got.length).toBe(want.length);
  let off = 0;
  let maxUlp = 0;
  let first: string | undefined;
  for (let i = 0; i < want.length; i++) {
    const d = ulps(got[i], want[i]);
    if (d === 0) continue;
    off++;
    maxUlp = Math.max(maxUlp, d);
    first ??= `element ${i}: ${got[i]} vs torch ${want[i]} (${d} ulp)`;
  }
  return { off, maxUlp, first };
}

describeWith(TORCH_FULL, 'torch.randn, every value of the full tensors in ../shared/data/torch', () => {
  const manifest: Manifest = TORCH_FULL.present ? JSON.parse(readFileSync(MANIFEST, 'utf8')) : { cases: [], sequential_seed7: [] };

  for (const c of manifest.cases) {
    it(`seed ${c.seed}, shape [${c.shape.join(',')}]: bit-identical`, () => {
      const got = new TorchGenerator(BigInt(c.seed)).randn(c.shape).data;
      const r = compare(got, readF32(c.file));
      expect(r.first).toBeUndefined();
      expect(r.off).toBe(0);
    });
  }

  it('a sampler-style stream: four draws in a row from one generator seeded 7 (a 3-value draw leaves a cached normal)', () => {
    const gen = new TorchGenerator(7);
    for (const d of [...manifest.sequential_seed7].sort((a, b) => a.draw - b.draw)) {
      const r = compare(gen.randn(d.shape).data, readF32(d.file));
      expect(r.first, `draw ${d.draw}`).toBeUndefined();
    }
  });

  it('covers at least 600000 values of 16-or-more-element tensors (the AVX2 Box-Muller path)', () => {
    const n = manifest.cases.map((c) => c.shape.reduce((a, b) => a * b, 1)).filter((k) => k >= 16).reduce((a, b) => a + b, 0);
    expect(n).toBeGreaterThan(600000);
  });
});
