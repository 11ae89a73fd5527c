import { describe, it, expect } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRegistry } from '../../../host/registry.js';
import { REPO, runCli } from './helpers.js';
import { classifyImages } from './clip-classify.js';

const MODELS = path.join(REPO, 'models');
const WORKFLOW = path.join(REPO, 'workflows/txt2img.json');
const NEEDED = ['CheckpointLoaderSimple', 'CLIPTextEncode', 'KSampler', 'EmptyLatentImage', 'VAEDecode', 'SaveImage'];
const registry = createRegistry();
const missing = [
  ...NEEDED.filter((t) => !registry.has(t)).map((t) => `node ${t} is not registered in nodes/registry.ts`),
  ...(existsSync(WORKFLOW) ? [] : ['workflows/txt2img.json is missing']),
  ...(existsSync(path.join(MODELS, 'checkpoints/toyworld-shapes/unet/model.onnx')) ? [] : ['toyworld is not generated (npm run toyworld)']),
  ...(existsSync(path.join(MODELS, 'clip_vision/toyworld-clip/onnx/model.onnx')) ? [] : ['toyworld CLIP is not generated (npm run toyworld)']),
];
if (missing.length) console.warn(`skipping the toyworld batch tests: ${missing.join('; ')}`);

const PROMPTS = ['a red circle', 'a blue square'];
// NOTE: 128x128 (a 16x16 latent): at 64x64 toyworld's circles and squares blur into the same blob.
const SMALL = ['--set', '5.width=128', '--set', '5.height=128', '--set', '3.steps=12'];

interface Event {
  type: string;
  job?: string;
  data: { node?: string; job?: string };
}

describe.skipIf(missing.length > 0)('toyworld batch (txt2img)', () => {
  it('a 2 prompts x 4 seeds sweep makes 8 images of the asked classes, loading the model and encoding each prompt once', async () => {
    const base = await mkdtemp(path.join(tmpdir(), 'lf-batch-tw-'));
    await writeFile(path.join(base, 'prompts.txt'), `${PROMPTS.join('\n')}\n`);
    const r = await runCli(
      ['run', WORKFLOW, '--models-dir', MODELS, ...SMALL, '--sweep', '6.text=@prompts.txt', '--sweep', 'seed=1..4', '--jobs', '2', '--output', 'out', '--json'],
      base,
    );
    expect(r.stderr).toContain('8 jobs: 8 done now');
    expect(r.code).toBe(0);
    const out = path.join(base, 'out');
    const records = (await readFile(path.join(out, 'manifest.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(records).toHaveLength(8);
    expect(records.map((x) => [x.overrides['6.text'], x.seed])).toEqual(PROMPTS.flatMap((p) => [1, 2, 3, 4].map((s) => [p, s])));
    const files = records.map((x) => path.join(out, x.outputs[0].file));
    expect((await readdir(out)).filter((f) => f.endsWith('.png'))).toHaveLength(8);
    const classes = await classifyImages(MODELS, files);
    expect(classes).toEqual(records.map((x) => x.overrides['6.text'].replace(/^a /, '')));
    // Different seeds give different images.
    expect(new Set(records.map((x) => x.outputs[0].sha256)).size).toBe(8);

    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Event);
    const ran = (node: string) => events.filter((e) => e.type === 'executing' && e.data.node === node).length;
    expect(ran('4')).toBe(1); // CheckpointLoaderSimple
    expect(ran('6')).toBe(PROMPTS.length); // positive CLIPTextEncode: once per distinct prompt
    expect(ran('7')).toBe(1); // the shared negative prompt
    expect(ran('3')).toBe(8);
    expect(events.filter((e) => e.type === 'job_start')).toHaveLength(8);
    expect(events.filter((e) => e.type === 'job_end')).toHaveLength(8);
  });

  for (const signal of ['SIGINT', 'SIGKILL'] as const) {
    it(`a sweep killed with ${signal} mid-batch completes on re-run without duplicates`, async () => {
      const base = await mkdtemp(path.join(tmpdir(), 'lf-batch-tw-'));
      // 30 steps and a kill at the first job end: the batch must still be running when the signal lands.
      const args = ['run', WORKFLOW, '--models-dir', MODELS, ...SMALL, '--set', '3.steps=30', '--sweep', '6.text=a red circle,a green triangle', '--sweep', 'seed=1..4', '--jobs', '2', '--output', 'out', '--json'];
      let ends = 0;
      const killed = await runCli(args, base, (line) => (line.includes('"type":"job_end"') && ++ends === 1 ? signal : undefined));
      if (signal === 'SIGINT') expect(killed.code, `signal ${killed.signal}; stderr:\n${killed.stderr}`).toBe(130);
      else expect(killed.signal).toBe('SIGKILL');
      const out = path.join(base, 'out');
      expect((await readdir(out)).filter((f) => f.endsWith('.png')).length).toBeLessThan(8);
      const resumed = await runCli(args, base);
      expect(resumed.code).toBe(0);
      const records = (await readFile(path.join(out, 'manifest.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
      expect(records).toHaveLength(8);
      expect(records.every((x) => x.status === 'done')).toBe(true);
      const names = (await readdir(out)).filter((f) => f !== 'manifest.jsonl');
      expect(names.sort()).toEqual(records.map((x) => x.outputs[0].file).sort());
      const classes = await classifyImages(MODELS, records.map((x) => path.join(out, x.outputs[0].file)));
      expect(classes).toEqual(records.map((x) => x.overrides['6.text'].replace(/^a /, '')));
    });
  }
});
