/**
 * Status-route latency while jobs run (#22 item 8; goal p99 <= 10 ms, max <= 50 ms): a real
 * `latentflow serve --concurrency 2` with a history of a few hundred entries runs toyworld txt2img jobs
 * (U-Net steps with previews to a WebSocket client, VAE decode, PNG save) while one client polls
 * GET /queue, GET /history?max_items=64 and GET /system_stats in turn. Latencies are measured by the
 * client over loopback, so they include HTTP and JSON on both sides, and the client's own scheduling on
 * a shared machine; the server's event-loop delay (perf_hooks, from a preload) is printed for the same
 * phases, which is what holds a status request up inside the server.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO, WsRecorder, getJson, postJson, slowWorkflow, startServerProcess, waitJob, type ServerProcess } from '../test/server/helpers.js';

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

function summary(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  return `n=${s.length} p50=${quantile(s, 0.5).toFixed(2)} ms p99=${quantile(s, 0.99).toFixed(2)} ms max=${(s[s.length - 1] ?? NaN).toFixed(2)} ms`;
}

function txt2img(seed: number, size: number): Record<string, unknown> {
  return {
    '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'toyworld-shapes' } },
    '6': { class_type: 'CLIPTextEncode', inputs: { text: 'a red circle', clip: ['4', 1] } },
    '7': { class_type: 'CLIPTextEncode', inputs: { text: '', clip: ['4', 1] } },
    '5': { class_type: 'EmptyLatentImage', inputs: { width: size, height: size, batch_size: 1 } },
    '3': { class_type: 'KSampler', inputs: { model: ['4', 0], positive: ['6', 0], negative: ['7', 0], latent_image: ['5', 0], seed, steps: 20, cfg: 5, sampler_name: 'euler', scheduler: 'normal', denoise: 1 } },
    '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
    '9': { class_type: 'SaveImage', inputs: { images: ['8', 0], filename_prefix: 'lat' } },
  };
}

const LOOP_DELAY = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/loop-delay.mjs');

/** Ends the server's current loop-delay phase and returns its line. */
async function loopDelay(srv: ServerProcess): Promise<string> {
  const before = srv.stderr().length;
  srv.proc.kill('SIGUSR2');
  for (;;) {
    const m = /loop-delay (\{.*\})/.exec(srv.stderr().slice(before));
    if (m) {
      const d = JSON.parse(m[1]!) as { p50: number; p99: number; max: number };
      return `server event-loop delay p50=${d.p50} ms p99=${d.p99} ms max=${d.max} ms`;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

const ROUTES = ['/queue', '/history?max_items=64', '/system_stats'] as const;
const HISTORY = 300;
const JOBS = 8;

export default async function (): Promise<void> {
  const srv = await startServerProcess({ nodeArgs: ['--import', LOOP_DELAY], toyworld: true, args: ['--models-dir', path.join(REPO, 'models'), '--concurrency', '2'] });
  try {
    for (let i = 0; i < HISTORY; i++) {
      const r = await postJson(`${srv.url}/prompt`, { prompt: slowWorkflow({ steps: 1, delayMs: 0, value: i / 1000 }) });
      if (r.status !== 200) throw new Error(`prefill rejected: ${r.text}`);
    }
    for (;;) {
      const q = await getJson<{ exec_info: { queue_remaining: number } }>(`${srv.url}/prompt`);
      if (q.exec_info.queue_remaining === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const poll = async (lat: Map<string, number[]>) => {
      for (const route of ROUTES) {
        const t = performance.now();
        const res = await fetch(`${srv.url}${route}`);
        await res.arrayBuffer();
        lat.get(route)!.push(performance.now() - t);
      }
      await new Promise((r) => setTimeout(r, 10));
    };
    // The same polling with no job running: the floor of this machine and client.
    const idle = new Map<string, number[]>(ROUTES.map((r) => [r, []]));
    await loopDelay(srv);
    for (let i = 0; i < 100; i++) await poll(idle);
    const idleLoop = await loopDelay(srv);
    const ws = await WsRecorder.open(srv.url, 'bench');
    const ids: string[] = [];
    for (let i = 0; i < JOBS; i++) {
      const r = await postJson(`${srv.url}/prompt`, { prompt: txt2img(i, 512), client_id: 'bench' });
      if (r.status !== 200) throw new Error(`job rejected: ${r.text}`);
      ids.push((r.json as { prompt_id: string }).prompt_id);
    }
    const lat = new Map<string, number[]>(ROUTES.map((r) => [r, []]));
    const t0 = performance.now();
    let done = false;
    void (async () => {
      for (const id of ids) await waitJob(srv.url, id, 600_000);
      done = true;
    })();
    while (!done) await poll(lat);
    const busyLoop = await loopDelay(srv);
    ws.close();
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    for (const route of ROUTES) {
      console.log(`GET ${route} idle, ${HISTORY} in history: ${summary(idle.get(route)!)}`);
      console.log(`GET ${route} while ${JOBS} toyworld 512x512 txt2img jobs ran (concurrency 2, ${secs} s): ${summary(lat.get(route)!)}`);
    }
    console.log(`idle: ${idleLoop}`);
    console.log(`while the jobs ran: ${busyLoop}`);
  } finally {
    await srv.stop();
  }
}
