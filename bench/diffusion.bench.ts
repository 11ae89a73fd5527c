/**
 * toyworld txt2img at 512x512, 20 steps, CFG 7, euler: the whole workflow (engine, nodes, denoiser adapter,
 * batching point, previews, VAE decode, PNG save) over the same text-encoder / U-Net / VAE session calls
 * made directly on the same pool, in one run. Also the process's peak RSS (workers are threads, so included).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHost } from '../host/host.js';
import { MODEL_POOL } from '../runtime/services.js';
import { Tensor } from '../runtime/tensor.js';
import { generateToyworld } from '../toyworld/generate.js';

const MODELS = path.resolve('models');
const CK = path.join(MODELS, 'checkpoints', 'toyworld-shapes');
const STEPS = 20;

function workflow(i: number): Record<string, unknown> {
  const enc = (text: string) => ({ class_type: 'CLIPTextEncode', inputs: { text, clip: ['4', 1] } });
  return {
    '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'toyworld-shapes' } },
    '5': { class_type: 'EmptyLatentImage', inputs: { width: 512, height: 512, batch_size: 1 } },
    // A different text per run, so the cache never skips the text encoder.
    '6': enc(`a red circle ${'a '.repeat(i)}`),
    '7': enc(`${'the '.repeat(i)}`),
    '3': {
      class_type: 'KSampler',
      inputs: { seed: i, steps: STEPS, cfg: 7, sampler_name: 'euler', scheduler: 'normal', denoise: 1, model: ['4', 0], positive: ['6', 0], negative: ['7', 0], latent_image: ['5', 0] },
    },
    '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
    '9': { class_type: 'SaveImage', inputs: { filename_prefix: 'bench', images: ['8', 0] } },
  };
}

const REPS = 11;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export default async function (): Promise<void> {
  await generateToyworld(MODELS, { ifMissing: true });
  const base = await mkdtemp(path.join(tmpdir(), 'lf-bench-diffusion-'));
  const host = await createHost({ baseDir: base, modelsDir: MODELS });
  try {
    const pool = host.services.get(MODEL_POOL);
    const text = await pool.session(path.join(CK, 'text_encoder', 'model.onnx'));
    const unet = await pool.session(path.join(CK, 'unet', 'model.onnx'));
    const dec = await pool.session(path.join(CK, 'vae_decoder', 'model.onnx'));
    // Record the feeds the workflow sends (real latents: the toy U-Net's cost depends on its inputs), then
    // replay exactly those calls directly.
    type Call = { session: typeof unet; feeds: Parameters<typeof unet.run>[0]; opts: Parameters<typeof unet.run>[1] };
    let recording: Call[] | undefined;
    // Time spent inside session calls, as seen from the main thread (wait for the worker included).
    let inSessions = 0;
    for (const session of [text, unet, dec]) {
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
    const viaWorkflow = async (i: number) => {
      inSessions = 0;
      const t0 = performance.now();
      const res = await host.engine.run(workflow(i));
      if (res.status !== 'success') throw new Error(`workflow failed: ${res.error?.message}`);
      const t = performance.now() - t0;
      outside.push(t - inSessions);
      return t;
    };
    recording = [];
    await viaWorkflow(0);
    calls = recording;
    recording = undefined;
    await direct();
    console.log(`${calls.length} session calls per run`);
    const w: number[] = [];
    const d: number[] = [];
    for (let i = 1; i <= REPS; i++) {
      w.push(await viaWorkflow(i));
      d.push(await direct());
    }
    const wm = median(w);
    const dm = median(d);
    // Noise on a shared machine only ever adds time, so the fastest runs show the overhead best.
    const wMin = Math.min(...w);
    const dMin = Math.min(...d);
    console.log(`workflow ${wm.toFixed(0)} ms, direct session calls ${dm.toFixed(0)} ms (medians of ${REPS}, interleaved)`);
    console.log(`ratio workflow/direct: median ${(wm / dm).toFixed(3)}, fastest ${(wMin / dMin).toFixed(3)} (${wMin.toFixed(0)} / ${dMin.toFixed(0)} ms) (target <= 1.05)`);
    // Less noisy than two separate timings: the U-Net's own jitter cancels out of this difference.
    const om = median(outside.slice(1));
    console.log(`workflow time outside session calls: median ${om.toFixed(1)} ms per run, ${((100 * om) / dm).toFixed(1)}% of the direct calls`);
    console.log(`peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
  } finally {
    await host.close();
    await rm(base, { recursive: true, force: true });
  }
}
