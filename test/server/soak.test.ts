/**
 * Bounded kill -9 soak (#22 deliverable): 20 kills of a real server at seeded random moments while
 * prompts are being submitted, sampled and saved; after a last restart every acknowledged prompt has
 * finished exactly once, with exactly its own PNG, and every PNG in output/ decodes completely. A kill
 * -9 is a crash of unknown cause, so it counts an attempt against the running job (the poison rule):
 * a job that happened to be running at three kills ends as PoisonJobError with no file, which is
 * accounted for, not lost.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { promptTag } from '../../host/job-files.js';
import { getJson, postJson, startServerProcess, tempBase, waitJob } from './helpers.js';

const KILLS = 20;
const PER_ROUND = 4;

/** mulberry32: a small seeded generator, so a failing schedule can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function prompt(steps: number, value: number): Record<string, unknown> {
  return {
    '1': { class_type: 'SlowImage', inputs: { steps, delay_ms: 15, value, size: 192, seed: 1 } },
    '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'soak' } },
  };
}

type History = Record<string, { outputs: Record<string, { images: { filename: string }[] }>; status: { status_str: string; messages: [string, Record<string, unknown>][] } }>;

function poisoned(h: History[string]): boolean {
  return h.status.messages.some((m) => m[0] === 'execution_error' && m[1].exception_type === 'PoisonJobError');
}

describe('kill -9 soak', () => {
  it(`loses, duplicates and tears nothing over ${KILLS} kills during enqueue, sampling and writes`, { timeout: 300_000 }, async () => {
    const seed = 22;
    const rand = rng(seed);
    const base = tempBase('soak');
    const acked = new Set<string>();
    let n = 0;
    for (let kill = 0; kill < KILLS; kill++) {
      const srv = await startServerProcess({ baseDir: base });
      const posts: Promise<void>[] = [];
      for (let i = 0; i < PER_ROUND; i++) {
        const id = `soak-${n++}`;
        posts.push(
          postJson(`${srv.url}/prompt`, { prompt: prompt(1 + Math.floor(rand() * 8), rand()), prompt_id: id }).then(
            (r) => void (r.status === 200 && acked.add(id)),
            () => undefined,
          ),
        );
      }
      // Anywhere from the middle of the submissions to the saves of the round's later jobs.
      await new Promise((r) => setTimeout(r, Math.floor(rand() * 500)));
      await srv.kill9();
      await Promise.all(posts);
    }
    const srv = await startServerProcess({ baseDir: base });
    try {
      expect(acked.size, `seed ${seed}`).toBeGreaterThan(KILLS);
      for (const id of acked) expect(['success', 'error'], `${id} (seed ${seed})`).toContain((await waitJob(srv.url, id, 60_000)).status);
      for (;;) {
        const q = await getJson<{ exec_info: { queue_remaining: number } }>(`${srv.url}/prompt`);
        if (q.exec_info.queue_remaining === 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const hist = await getJson<History>(`${srv.url}/history`);
      const lost = [...acked].filter((id) => !hist[id]);
      const failed = Object.keys(hist).filter((id) => hist[id]!.status.status_str !== 'success' && !poisoned(hist[id]!));
      const poison = Object.keys(hist).filter((id) => poisoned(hist[id]!));
      expect({ lost, failed }, `seed ${seed}`).toEqual({ lost: [], failed: [] });
      for (const id of poison) expect(await getJson(`${srv.url}/api/jobs/${id}`)).toMatchObject({ status: 'error', attempts: 3 });
      console.log(`soak: ${KILLS} kills, ${acked.size} acknowledged, ${Object.keys(hist).length} finished, ${poison.length} poisoned by three kills`);
      const files = readdirSync(path.join(base, 'output')).sort();
      const referenced = Object.entries(hist).flatMap(([id, h]) => {
        if (poisoned(h)) return [];
        const names = h.outputs['2']!.images.map((i) => i.filename);
        expect(names, id).toHaveLength(1);
        expect(names[0], id).toContain(promptTag(id));
        return names;
      });
      // No duplicates, orphans or partial files: output/ holds exactly the files history points to.
      expect(files).toEqual(referenced.sort());
      for (const f of files) {
        const { info } = await sharp(path.join(base, 'output', f)).raw().toBuffer({ resolveWithObject: true });
        expect([info.width, info.height], f).toEqual([192, 192]);
      }
    } finally {
      await srv.stop();
    }
  });
});
