/**
 * Cross-job U-Net batching: 8 toyworld txt2img jobs (64x64, 20 steps euler/karras, CFG 7, 8 prompts and
 * seeds) run sequentially (batching off), concurrently without batching (--max-batch 2) and concurrently
 * with batching, in one process; images/s, p50/p95 job latency (from submission of all 8), and U-Net
 * calls and rows per call. Each mode runs ROUNDS times, interleaved, and reports its median round.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Services, checkStructure, parseJson, type ApiWorkflow, type Engine } from '../engine/index.js';
import { createHost } from '../host/host.js';
import { MODEL_POOL } from '../runtime/services.js';
import { loadCheckpoint } from '../nodes/diffusion/checkpoint.js';
import { JOB_LANE, StepScheduler } from '../runtime/batching/index.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MODELS = path.join(REPO, 'models');
const JOBS = 8;
const ROUNDS = 5;
const PROMPTS = ['a red circle', 'a blue square', 'a green triangle', 'a yellow ring', 'a purple cross', 'an orange square', 'a cyan circle', 'a black ring'];

interface Mode {
  readonly name: string;
  /** Jobs running at once. */
  readonly concurrency: number;
  readonly maxBatch: number;
}

/** NOTE: max-batch 2 keeps each job's cond + uncond rows in one call, as before batching, but merges no jobs. */
const MODES: readonly Mode[] = [
  { name: 'sequential (batching off)', concurrency: 1, maxBatch: 2 },
  { name: '8 at once, not batched', concurrency: 8, maxBatch: 2 },
  { name: '2 at once, batched', concurrency: 2, maxBatch: 16 },
  { name: '4 at once, batched', concurrency: 4, maxBatch: 16 },
  { name: '8 at once, batched', concurrency: 8, maxBatch: 16 },
  { name: '4 at once, --max-batch 4', concurrency: 4, maxBatch: 4 },
  { name: '8 at once, --max-batch 8', concurrency: 8, maxBatch: 8 },
];

interface Round {
  readonly seconds: number;
  readonly latencies: number[];
  readonly calls: number;
  readonly rows: number;
}

function jobs(base: ApiWorkflow, round: number): ApiWorkflow[] {
  return PROMPTS.slice(0, JOBS).map((text, i) => {
    const wf: ApiWorkflow = JSON.parse(JSON.stringify(base));
    wf['3']!.inputs.seed = round * 100 + i;
    wf['6']!.inputs.text = text;
    wf['9']!.inputs.filename_prefix = `bench_${round}_${i}`;
    return wf;
  });
}

async function runRound(engine: Engine, workflows: ApiWorkflow[], mode: Mode, stats: () => { calls: number; rows: number }): Promise<Round> {
  engine.cache.clear();
  const sched = new StepScheduler({ maxBatch: mode.maxBatch });
  const before = stats();
  const latencies: number[] = [];
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < workflows.length) {
      const i = next++;
      const lane = sched.lane(`job-${i}`);
      try {
        const r = await engine.run(workflows[i]!, { job: new Services().set(JOB_LANE, lane) });
        if (r.status !== 'success') throw new Error(`job ${i} ended ${r.status}: ${r.error?.message ?? ''}`);
      } finally {
        lane.close();
      }
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: mode.concurrency }, worker));
  const after = stats();
  return { seconds: (performance.now() - t0) / 1000, latencies, calls: after.calls - before.calls, rows: after.rows - before.rows };
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

export default async function (): Promise<void> {
  const file = path.join(REPO, 'workflows/txt2img.json');
  if (!existsSync(path.join(MODELS, 'checkpoints/toyworld-shapes/unet/model.onnx'))) {
    console.log('toyworld is missing: run `latentflow toyworld` first');
    return;
  }
  const shape = checkStructure(parseJson(readFileSync(file, 'utf8')));
  if (!shape.ok) throw new Error(`${file} does not parse`);
  const base = shape.workflow;
  base['5']!.inputs.width = 64;
  base['5']!.inputs.height = 64;
  const dir = await mkdtemp(path.join(tmpdir(), 'lf-bench-batching-'));
  const host = await createHost({ baseDir: dir, modelsDir: MODELS });
  try {
    const unet = loadCheckpoint(path.join(MODELS, 'checkpoints/toyworld-shapes'), 'toyworld-shapes', host.services.get(MODEL_POOL)).model.unet;
    const stats = () => unet.stats();
    // Warm-up: sessions load, JIT settles.
    await runRound(host.engine, jobs(base, 99), MODES[0]!, stats);
    await runRound(host.engine, jobs(base, 98), MODES[MODES.length - 1]!, stats);
    const rounds = new Map<string, Round[]>(MODES.map((m) => [m.name, []]));
    for (let r = 0; r < ROUNDS; r++) {
      for (const m of MODES) rounds.get(m.name)!.push(await runRound(host.engine, jobs(base, r), m, stats));
    }
    console.log(`${JOBS} txt2img jobs on toyworld, 64x64, 20 steps euler/karras, CFG 7; median of ${ROUNDS} rounds per mode`);
    console.log('mode                          images/s   p50 ms   p95 ms   U-Net calls   rows/call');
    let sequential = 0;
    for (const m of MODES) {
      const rs = rounds.get(m.name)!;
      const med = [...rs].sort((a, b) => a.seconds - b.seconds)[Math.floor(rs.length / 2)]!;
      const ips = JOBS / med.seconds;
      if (m === MODES[0]) sequential = ips;
      console.log(
        `${m.name.padEnd(30)}${ips.toFixed(1).padStart(8)}${quantile(med.latencies, 0.5).toFixed(0).padStart(9)}${quantile(med.latencies, 0.95).toFixed(0).padStart(9)}` +
          `${String(med.calls).padStart(14)}${(med.rows / med.calls).toFixed(1).padStart(12)}   x${(ips / sequential).toFixed(2)} vs sequential`,
      );
    }
  } finally {
    await host.close();
    await rm(dir, { recursive: true, force: true });
  }
}
