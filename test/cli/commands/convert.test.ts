import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJson, readPngText, type ObjectInfoEntry } from '../../../engine/index.js';
import { convertCommand, type ConvertFlags } from '../../../cli/commands/convert.js';
import { runCommand } from '../../../cli/commands/run.js';
import { realObjectInfo } from '../../fixtures/object-info.js';
import { EXAMPLES, EXAMPLES_DIR, loadExample } from '../../engine/formats/helpers.js';
import { COMFYUI_EXAMPLES, itWith } from '../../fixtures/shared-data.js';

const MODELS = path.resolve(import.meta.dirname, '../../../models');

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { write: (t: string) => void out.push(t), error: (t: string) => void err.push(t) }, out, err };
}

describe('latentflow convert', () => {
  let tmp: string;
  let info: Record<string, ObjectInfoEntry>;
  const flags = (over: Partial<ConvertFlags>): ConvertFlags => ({ to: 'api', mapCheckpoint: [], mapInput: [], baseDir: tmp, ...over });
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'lf-convert-'));
    info = await realObjectInfo();
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  for (const file of EXAMPLES) {
    itWith(COMFYUI_EXAMPLES, `${file}: --to api, then --to ui and back to api gives the same workflow`, async (ctx) => {
      const ex = loadExample(file);
      const missing = Object.values(ex.prompt).filter((n) => !Object.hasOwn(info, n.class_type));
      if (missing.length) ctx.skip(`node types not registered yet: ${missing.map((n) => n.class_type).join(', ')}`);
      const api = path.join(tmp, `${file}.api.json`);
      const ui = path.join(tmp, `${file}.ui.json`);
      const c = capture();
      expect(await convertCommand(path.join(EXAMPLES_DIR, file), flags({ to: 'api', out: api }), c.io)).toBe(0);
      expect(await convertCommand(api, flags({ to: 'ui', out: ui }), c.io)).toBe(0);
      const back = capture();
      expect(await convertCommand(ui, flags({ to: 'api' }), back.io)).toBe(0);
      expect(parseJson(back.out.join(''))).toEqual(parseJson(readFileSync(api, 'utf8')));
      expect(c.err).toEqual([]);
    });
  }

  itWith(COMFYUI_EXAMPLES, 'keeps the layout of a UI source when converting to ui, with the version marker', async () => {
    const c = capture();
    expect(await convertCommand(path.join(EXAMPLES_DIR, 'img2img_img2img_workflow.png'), flags({ to: 'ui' }), c.io)).toBe(0);
    const doc = parseJson(c.out.join(''));
    expect(doc).toMatchObject({ latentflow: { version: 1 }, version: 0.4, groups: [{ title: 'Loading images' }] });
  });

  it('exits 2 with one message naming every unknown node type', async () => {
    const c = capture();
    const bad = path.join(tmp, 'bad.json');
    writeFileSync(bad, '{"1":{"class_type":"Foo","inputs":{}},"2":{"class_type":"Foo","inputs":{}},"3":{"class_type":"Bar","inputs":{}}}');
    expect(await convertCommand(bad, flags({ to: 'ui' }), c.io)).toBe(2);
    expect(c.err.join('')).toBe(`cannot convert ${bad}: unknown node types: Foo (nodes 1, 2); Bar (node 3)\n`);
    expect(c.out).toEqual([]);
  });
});

describe('latentflow run on a ComfyUI PNG (UI workflow chunk)', () => {
  itWith(COMFYUI_EXAMPLES, 'runs the img2img example with a mapped checkpoint and input image', async (ctx) => {
    if (!existsSync(path.join(MODELS, 'checkpoints', 'toyworld-shapes'))) ctx.skip('toyworld pack not generated (npm run toyworld)');
    const base = mkdtempSync(path.join(os.tmpdir(), 'lf-run-ui-'));
    try {
      mkdirSync(path.join(base, 'input'));
      await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 200, g: 30, b: 30 } } }).png().toFile(path.join(base, 'input', 'red.png'));
      const code = await runCommand(path.join(EXAMPLES_DIR, 'img2img_img2img_workflow.png'), {
        baseDir: base,
        modelsDir: MODELS,
        set: ['3.steps=2'],
        mapCheckpoint: ['v1-5-pruned-emaonly.ckpt=toyworld-shapes'],
        mapInput: ['example.png=red.png'],
        json: true,
      });
      expect(code).toBe(0);
      const saved = readPngText(readFileSync(path.join(base, 'output', 'ComfyUI_00001_.png')));
      const prompt = parseJson(saved.prompt!);
      expect(prompt).toMatchObject({ '14': { inputs: { ckpt_name: 'toyworld-shapes' } }, '10': { inputs: { image: 'red.png' } }, '3': { inputs: { steps: 2 } } });
      expect(parseJson(saved.workflow!)).toMatchObject({ latentflow: { version: 1 } });
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
