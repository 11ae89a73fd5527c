/**
 * Server responsiveness and durability costs, against a real `latentflow serve` process:
 * - p99 latency of GET /prompt from a concurrent client while a job runs;
 * - acceptance latency (POST /prompt until the committed acknowledgement) for 200 queued prompts;
 * - restart recovery: kill -9 with those prompts queued, then time to reopen the store and listen.
 */
import { startServerProcess, postJson, slowWorkflow, type ServerProcess } from '../test/server/helpers.js';

function quantile(sorted: readonly number[], q: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function summary(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  return `n=${s.length} p50=${quantile(s, 0.5).toFixed(2)} ms p99=${quantile(s, 0.99).toFixed(2)} ms max=${s[s.length - 1]!.toFixed(2)} ms`;
}

/** A job with real work on the server: timed steps with previews, a 1024x1024 upscale and a PNG save. */
function busyWorkflow(): Record<string, unknown> {
  return {
    ...slowWorkflow({ steps: 60, delayMs: 25, prefix: 'bench' }),
    '3': { class_type: 'ImageScale', inputs: { image: ['1', 0], upscale_method: 'bilinear', width: 1024, height: 1024, crop: 'disabled' } },
    '4': { class_type: 'SaveImage', inputs: { images: ['3', 0], filename_prefix: 'bench-big' } },
  };
}

async function pollWhileRunning(srv: ServerProcess, promptId: string): Promise<number[]> {
  const lat: number[] = [];
  for (;;) {
    const t0 = performance.now();
    const r = await fetch(`${srv.url}/prompt`);
    await r.json();
    lat.push(performance.now() - t0);
    const job = (await (await fetch(`${srv.url}/api/jobs/${promptId}`)).json()) as { status: string };
    if (job.status !== 'pending' && job.status !== 'running') return lat;
    await new Promise((res) => setTimeout(res, 5));
  }
}

export default async function (): Promise<void> {
  let srv = await startServerProcess();
  const base = srv.baseDir;
  try {
    const jobs: [string, Record<string, unknown>][] = [
      ['sampling-like job (60 steps with previews, 8x8 save)', slowWorkflow({ steps: 60, delayMs: 25, prefix: 'bench' })],
      ['job with main-thread image work (1024x1024 ImageScale + SaveImage)', busyWorkflow()],
    ];
    for (const [i, [label, prompt]] of jobs.entries()) {
      const ack = await postJson(`${srv.url}/prompt`, { prompt, prompt_id: `bench-busy-${i}` });
      if (ack.status !== 200) throw new Error(`bench prompt rejected: ${ack.text}`);
      const t0 = performance.now();
      const lat = await pollWhileRunning(srv, `bench-busy-${i}`);
      console.log(`GET /prompt during a ${label}, ${((performance.now() - t0) / 1000).toFixed(1)} s: ${summary(lat)}`);
    }

    // Queue 200 prompts behind a long blocker, so they stay pending for the restart measurement.
    await postJson(`${srv.url}/prompt`, { prompt: slowWorkflow({ steps: 1000, delayMs: 50 }) });
    const accept: number[] = [];
    const tAll = performance.now();
    for (let i = 0; i < 200; i++) {
      const t = performance.now();
      const r = await postJson(`${srv.url}/prompt`, { prompt: slowWorkflow({ steps: 1, delayMs: 0, value: i / 1000 }) });
      if (r.status !== 200) throw new Error(`prompt ${i} rejected: ${r.text}`);
      accept.push(performance.now() - t);
    }
    console.log(`acceptance of 200 prompts (committed before the ack): ${summary(accept)}; total ${(performance.now() - tAll).toFixed(0)} ms`);

    await srv.kill9();
    const tRestart = performance.now();
    srv = await startServerProcess({ baseDir: base });
    const listening = performance.now() - tRestart;
    const line = /recovery ([\d.]+) ms/.exec(srv.stdout()) ?? undefined;
    const q = (await (await fetch(`${srv.url}/prompt`)).json()) as { exec_info: { queue_remaining: number } };
    console.log(
      `restart after kill -9 with ${q.exec_info.queue_remaining} queued: listening after ${listening.toFixed(0)} ms (process start included)` +
        (line ? `; store recovery ${line[1]} ms` : ''),
    );
  } finally {
    await srv.stop();
  }
}
