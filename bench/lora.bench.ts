/**
 * LoRA merge speed and memory on a synthetic model: 8 Linear layers of 1024 x 1024 exported as torch
 * does (MatMul over a transposed initializer), float32 and float16, patched by a rank-16 kohya LoRA on
 * every layer. Prints MB/s of patched weights (computePatch alone, in a fresh child process), the child's
 * peak RSS above its level before the merge relative to the patched tensors' size (goal <= 1.5x), and the
 * time to create a patched session relative to an unpatched one of the same model.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OnnxSession } from '../runtime/onnx-session.js';
import { encodeSafetensors, type SafetensorsEntry } from '../runtime/safetensors-write.js';
import { toHalf } from '../runtime/float16.js';
import type { WeightPatch } from '../runtime/weight-patch.js';
import { GraphBuilder } from '../toyworld/onnx/builder.js';

const LAYERS = 8;
const WIDTH = 1024;
const RANK = 16;
const mb = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MB`;
const here = path.dirname(fileURLToPath(import.meta.url));

function model(dir: string, half: boolean): { file: string; weights: string[] } {
  const g = new GraphBuilder('lora_bench');
  const elem = half ? 'float16' : 'float32';
  let x = g.input('x', elem, [1, WIDTH]);
  const weights: string[] = [];
  for (let l = 0; l < LAYERS; l++) {
    const n = WIDTH * WIDTH;
    const raw = half ? new Uint8Array(Uint16Array.from({ length: n }, (_, i) => toHalf(((i * 7919) % 1000) / 1e5)).buffer) : new Uint8Array(Float32Array.from({ length: n }, (_, i) => ((i * 7919) % 1000) / 1e5).buffer);
    const w = g.init('w', { elem, dims: [WIDTH, WIDTH], raw });
    weights.push(w);
    x = g.op('MatMul', [x, w], {}, undefined, `/layers.${l}/proj/MatMul`);
  }
  g.output('y', x, elem, [1, WIDTH]);
  const file = path.join(dir, half ? 'fp16.onnx' : 'fp32.onnx');
  writeFileSync(file, g.toBytes());
  return { file, weights };
}

export default async function (): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lf-bench-lora-'));
  try {
    const lora = path.join(dir, 'lora.safetensors');
    const tensors: Record<string, SafetensorsEntry> = {};
    for (let l = 0; l < LAYERS; l++) {
      tensors[`lora_unet_layers_${l}_proj.lora_down.weight`] = { dtype: 'F16', shape: [RANK, WIDTH], data: Array.from({ length: RANK * WIDTH }, (_, i) => ((i % 13) - 6) / 100) };
      tensors[`lora_unet_layers_${l}_proj.lora_up.weight`] = { dtype: 'F16', shape: [WIDTH, RANK], data: Array.from({ length: RANK * WIDTH }, (_, i) => ((i % 11) - 5) / 100) };
    }
    writeFileSync(lora, encodeSafetensors(tensors));
    for (const half of [false, true]) {
      const { file, weights } = model(dir, half);
      const patch: WeightPatch = {
        deltas: Array.from({ length: LAYERS }, (_, l) => ({
          target: weights[l]!,
          transposed: true,
          terms: [{ file: lora, up: `lora_unet_layers_${l}_proj.lora_up.weight`, down: `lora_unet_layers_${l}_proj.lora_down.weight`, scale: 0.5 }],
        })),
      };
      const patchFile = path.join(dir, 'patch.json');
      writeFileSync(patchFile, JSON.stringify(patch));
      const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', path.join(here, 'fixtures', 'lora-merge.ts'), file, patchFile], { encoding: 'utf8' });
      if (child.status !== 0) throw new Error(`lora-merge child failed: ${child.stderr}`);
      const r = JSON.parse(child.stdout.trim().split('\n').pop()!) as { ms: number; patchedBytes: number; before: number; peak: number };
      const grown = Math.max(0, r.peak - r.before);
      const t0 = performance.now();
      const plain = await OnnxSession.create(file);
      const tPlain = performance.now() - t0;
      await plain.release();
      const t1 = performance.now();
      const patched = await OnnxSession.create(file, {}, patch);
      const tPatched = performance.now() - t1;
      await patched.release();
      console.log(
        `${half ? 'float16' : 'float32'} model, ${LAYERS} x ${WIDTH}x${WIDTH} weights (${mb(r.patchedBytes)} patched, rank ${RANK}): ` +
          `merge ${(r.patchedBytes / 2 ** 20 / (r.ms / 1000)).toFixed(0)} MB/s (${r.ms.toFixed(0)} ms); ` +
          `peak RSS +${mb(grown)} = ${(grown / r.patchedBytes).toFixed(2)}x the patched tensors; ` +
          `patched session created in ${(tPatched / tPlain).toFixed(1)}x the time of an unpatched one`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
