import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHost, type Host } from '../../host/host.js';
import { stringifyJson, type ObjectInfoEntry } from '../../engine/index.js';
import { tempDir } from '../fixtures/temp-dir.js';

const COMFY_KEYS = new Set(['input', 'input_order', 'output', 'output_is_list', 'output_name', 'output_tooltips', 'name', 'display_name', 'description', 'python_module', 'category', 'output_node', 'deprecated', 'experimental']);

let host: Host;
let info: Record<string, ObjectInfoEntry>;
beforeAll(async () => {
  host = await createHost({ baseDir: await tempDir('lf-object-info-') });
  info = host.engine.objectInfo();
});
afterAll(() => host?.close());

describe('/object_info from node definitions', () => {
  it("publishes KSampler exactly as ComfyUI's api.md shows it", () => {
    const k = info.KSampler!;
    expect(k.input_order).toEqual({ required: ['model', 'seed', 'steps', 'cfg', 'sampler_name', 'scheduler', 'positive', 'negative', 'latent_image', 'denoise'] });
    expect(k.input.required.model).toEqual(['MODEL', expect.any(Object)]);
    expect(k.input.required.seed![1]).toMatchObject({ default: 0, min: 0, max: 18446744073709551615n, control_after_generate: true });
    expect(stringifyJson(k.input.required.seed)).toContain('"max":18446744073709551615');
    expect(k.input.required.steps![1]).toMatchObject({ default: 20, min: 1, max: 10000 });
    expect(k.input.required.cfg![1]).toMatchObject({ default: 8, min: 0, max: 100, step: 0.1, round: 0.01 });
    expect(k.input.required.sampler_name![0]).toContain('euler');
    expect(k.input.required.scheduler![0]).toContain('karras');
    expect(k.input.required.denoise![1]).toMatchObject({ default: 1, min: 0, max: 1, step: 0.01 });
    expect(k).toMatchObject({ output: ['LATENT'], output_is_list: [false], output_name: ['LATENT'], name: 'KSampler', category: 'sampling', output_node: false });
  });

  it('gives every node only ComfyUI keys, consistent orders and defaults inside their ranges', () => {
    expect(Object.keys(info).length).toBeGreaterThan(50);
    for (const [type, e] of Object.entries(info)) {
      for (const key of Object.keys(e)) expect(COMFY_KEYS.has(key), `${type}.${key}`).toBe(true);
      expect(e.name).toBe(type);
      expect(e.output.length, type).toBe(e.output_name.length);
      expect(e.output_is_list.length, type).toBe(e.output.length);
      for (const section of ['required', 'optional'] as const) {
        const inputs = e.input[section] ?? {};
        expect(e.input_order[section] ?? [], `${type} ${section}`).toEqual(Object.keys(inputs));
        for (const [name, [kind, opts]] of Object.entries(inputs)) {
          const where = `${type}.${name}`;
          if (Array.isArray(kind)) {
            if (opts.default !== undefined) expect(kind, where).toContain(opts.default);
            continue;
          }
          if (kind === 'INT' || kind === 'FLOAT') {
            const d = opts.default as number | bigint;
            if (opts.min !== undefined) expect(Number(d) >= Number(opts.min), `${where} default ${d} < min`).toBe(true);
            if (opts.max !== undefined) expect(Number(d) <= Number(opts.max), `${where} default ${d} > max`).toBe(true);
          }
        }
      }
    }
  });

  it('lists folder-backed choices at request time', () => {
    expect(info.CheckpointLoaderSimple!.input.required.ckpt_name![0]).toEqual([]);
    expect(info.LoadImage!.input.required.image![1]).toMatchObject({ image_upload: true });
  });
});
