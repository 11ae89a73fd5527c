/**
 * Main-thread timer lag (setInterval 5 ms) while a >= 1 s inference runs in an inference worker, versus
 * the same inference run on the main thread. The worker keeps the event loop serving HTTP/WebSocket.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { OnnxSession } from '../runtime/onnx-session.js';
import { SessionClient } from '../runtime/session-client.js';
import { Tensor } from '../runtime/tensor.js';
import { slowModel, writeModel } from '../test/runtime/fixtures/models.js';

const N = 1024;
const ROUNDS = 48; // ~100 GFLOP of MatMul: over 1 s on a 2-core box

interface Lag {
  runMs: number;
  maxMs: number;
  p99Ms: number;
  ticks: number;
}

async function measureLag(run: () => Promise<unknown>): Promise<Lag> {
  const lags: number[] = [];
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    lags.push(Math.max(0, now - last - 5));
    last = now;
  }, 5);
  const t0 = performance.now();
  await run();
  const runMs = performance.now() - t0;
  // Let a tick that was held back by a blocking run fire, so its lag is counted.
  await new Promise((r) => setTimeout(r, 15));
  clearInterval(timer);
  const sorted = [...lags].sort((a, b) => a - b);
  const p99 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0;
  return { runMs, maxMs: sorted[sorted.length - 1] ?? 0, p99Ms: p99, ticks: lags.length };
}

const fmt = (label: string, l: Lag): string =>
  `${label.padEnd(30)} run ${l.runMs.toFixed(0).padStart(5)} ms   timer lag max ${l.maxMs.toFixed(1).padStart(7)} ms   p99 ${l.p99Ms.toFixed(1).padStart(7)} ms   (${l.ticks} ticks)`;

export default async function (): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lf-bench-'));
  try {
    const modelPath = writeModel(dir, 'slow.onnx', slowModel(N, ROUNDS));
    const x = Tensor.float32(Float32Array.from({ length: N * N }, (_, i) => Math.sin(i) * 0.03), [N, N]);

    for (const threads of [2, 1]) {
      const client = new SessionClient({ workers: 1, session: { intraOpNumThreads: threads } });
      try {
        const s = await client.load(modelPath);
        await s.run({ x }); // warm-up
        console.log(fmt(`worker, ${threads} intra-op thread(s)`, await measureLag(() => s.run({ x }))));
      } finally {
        await client.close();
      }
    }

    const main = await OnnxSession.create(modelPath, { intraOpNumThreads: 2 });
    await main.run({ x });
    console.log(fmt('main thread, 2 intra-op threads', await measureLag(() => main.run({ x }))));
    await main.release();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
