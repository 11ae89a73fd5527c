/**
 * SDXL on toyworld-xl: (1) txt2img at 256x256, 20 steps euler, CFG 7 through the whole workflow over the same
 * session calls (two text towers, U-Net with text_embeds + time_ids, VAE decode) made directly on the same pool;
 * the time outside session calls per step (the slope between 20 and 60 steps, so per-run costs drop out) is printed
 * next to toyworld-shapes' (SD 1.5 signature) measured in the same run, so the SDXL feed's per-step overhead is compared with SD 1.5's. (2) Cross-job batching: 4 jobs at
 * 64x64 sequentially and 4 at once (one U-Net call per step for all of them).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Services, type ApiWorkflow, type Engine } from '../engine/index.js';
import { createHost } from '../host/host.js';
import { MODEL_POOL } from '../runtime/services.js';
import { Tensor } from '../runtime/tensor.js';
import { JOB_LANE, StepScheduler } from '../runtime/batching/index.js';
import { loadCheckpoint } from '../nodes/diffusion/checkpoint.js';
import { generateToyworld } from '../toyworld/generate.js';
import type { ModelPool } from '../runtime/model-pool.js';

const MODELS = path.resolve('models');
const STEPS = 20;
/** The per-step overhead is the slope between STEPS and LONG steps, so per-run costs (text encoders, decode, PNG) drop out. */
const LONG = 60;
const REPS = 7;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function workflow(ckpt: string, i: number, size: number, prompt = 'a red circle', steps = STEPS): ApiWorkflow {
  const enc = (text: string) => ({ class_type: 'CLIPTextEncode', inputs: { text, clip: ['4', 1] } });
  return {
    '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: ckpt } },
    '5': { class_type: 'EmptyLatentImage', inputs: { width: size, height: size, batch_size: 1 } },
    // A different text per run, so the cache never skips the text encoders.
    '6': enc(`${prompt} ${'a '.repeat(i)}`),
    '7': enc(`${'the '.repeat(i)}`),
    '3': {
      class_type: 'KSampler',
      inputs: { seed: i, steps, cfg: 7, sampler_name: 'euler', scheduler: 'normal', denoise: 1, model: ['4', 0], positive: ['6', 0], negative: ['7', 0], latent_image: ['5', 0] },
    },
    '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
    '9': { class_type: 'SaveImage', inputs: { filename_prefix: `bench-${ckpt}`, images: ['8', 0] } },
  };
}

/** Workflow vs direct session calls for one checkpoint; returns the median time outside session calls per step. */
async function overhead(engine: Engine, pool: ModelPool, ckpt: string, parts: readonly string[]): Promise<number> {
  const dir = path.join(MODELS, 'checkpoints', ckpt);
  const sessions = await Promise.all(parts.map((p) => pool.session(path.join(dir, p, 'model.onnx'))));
  type S = (typeof sessions)[number];
  type Call = { session: S; feeds: Parameters<S['run']>[0]; opts: Parameters<S['run']>[1] };
  let recording: Call[] | undefined;
  let inSessions = 0;
  for (const session of sessions) {
    const run = session.run.bind(session);
    Object.assign(session, {
      run: async (feeds: Parameters<typeof run>[0], opts?: Parameters<typeof run>[1]) => {
        recording?.push({ session, feeds: Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, new Tensor(t.dtype, t.data.slice(), t.shape)])), opts });
        const t0 = performance.now();
        try {
          return await run(feeds, opts);
        } finally {
          inSessions += performance.now() - t0;
        }
      },
    });
  }
  let calls: Call[] = [];
  const direct = async () => {
    const t0 = performance.now();
    for (const c of calls) await c.session.run(c.feeds, { outputs: c.opts?.outputs });
    return performance.now() - t0;
  };
  const outside: number[] = [];
  const outsideLong: number[] = [];
  const viaWorkflow = async (i: number, steps = STEPS) => {
    inSessions = 0;
    const t0 = performance.now();
    const res = await engine.run(workflow(ckpt, i, 256, 'a red circle', steps));
    if (res.status !== 'success') throw new Error(`${ckpt} workflow failed: ${res.error?.message}`);
    const t = performance.now() - t0;
    (steps === STEPS ? outside : outsideLong).push(t - inSessions);
    return t;
  };
  recording = [];
  await viaWorkflow(0);
  calls = recording;
  recording = undefined;
  await direct();
  const w: number[] = [];
  const d: number[] = [];
  for (let i = 1; i <= REPS; i++) {
    w.push(await viaWorkflow(i));
    d.push(await direct());
    await viaWorkflow(100 + i, LONG);
  }
  const perStep = (median(outsideLong) - median(outside.slice(1))) / (LONG - STEPS);
  console.log(`${ckpt}: ${calls.length} session calls per run; workflow ${median(w).toFixed(0)} ms, direct ${median(d).toFixed(0)} ms (medians of ${REPS}); ` +
    `ratio workflow/direct: median ${(median(w) / median(d)).toFixed(3)}, fastest ${(Math.min(...w) / Math.min(...d)).toFixed(3)}; outside session calls per extra step ${perStep.toFixed(3)} ms (slope ${STEPS} -> ${LONG} steps)`);
  return perStep;
}

async function jobsRound(engine: Engine, concurrency: number, round: number): Promise<number> {
  engine.cache.clear();
  const sched = new StepScheduler({ maxBatch: 16 });
  const prompts = ['a red circle', 'a blue square', 'a green triangle', 'a yellow ring'];
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < prompts.length) {
      const i = next++;
      const lane = sched.lane(`job-${i}`);
      try {
        const r = await engine.run(workflow('toyworld-xl', round * 10 + i, 64, prompts[i]), { job: new Services().set(JOB_LANE, lane) });
        if (r.status !== 'success') throw new Error(`job ${i}: ${r.error?.message ?? r.status}`);
      } finally {
        lane.close();
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return (performance.now() - t0) / 1000;
}

export default async function (): Promise<void> {
  await generateToyworld(MODELS, { ifMissing: true });
  const base = await mkdtemp(path.join(tmpdir(), 'lf-bench-sdxl-'));
  const host = await createHost({ baseDir: base, modelsDir: MODELS });
  try {
    const pool = host.services.get(MODEL_POOL);
    const xl = await overhead(host.engine, pool, 'toyworld-xl', ['text_encoder', 'text_encoder_2', 'unet', 'vae_decoder']);
    const sd = await overhead(host.engine, pool, 'toyworld-shapes', ['text_encoder', 'unet', 'vae_decoder']);
    // NOTE: both slopes are a fraction of a millisecond, near this machine's noise; the difference is what to read.
    console.log(`per-step overhead outside session calls: SDXL ${xl.toFixed(3)} ms, SD 1.5 ${sd.toFixed(3)} ms, difference ${(xl - sd).toFixed(3)} ms (target: SDXL <= SD 1.5)`);

    const unet = loadCheckpoint(path.join(MODELS, 'checkpoints', 'toyworld-xl'), 'toyworld-xl', pool).model.unet;
    await jobsRound(host.engine, 4, 99);
    const seq: number[] = [];
    const par: number[] = [];
    let calls = 0;
    let rows = 0;
    for (let r = 0; r < 5; r++) {
      seq.push(await jobsRound(host.engine, 1, r));
      const before = unet.stats();
      par.push(await jobsRound(host.engine, 4, r));
      const after = unet.stats();
      calls = after.calls - before.calls;
      rows = after.rows - before.rows;
    }
    console.log(`4 toyworld-xl jobs (64x64, ${STEPS} steps, CFG 7): sequential ${median(seq).toFixed(2)} s, 4 at once ${median(par).toFixed(2)} s ` +
      `(medians of 5): batching gain x${(median(seq) / median(par)).toFixed(2)}; ${calls} U-Net calls, ${(rows / calls).toFixed(1)} rows per call`);
  } finally {
    await host.close();
    await rm(base, { recursive: true, force: true });
  }
}
