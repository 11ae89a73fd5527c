import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowParseError, stringifyJson, type ObjectInfoEntry } from '../../engine/index.js';
import { UnknownNodeTypesError, ValueMapError } from '../../engine/formats/index.js';
import { loadWorkflowFile } from '../../cli/load-workflow.js';
import { realObjectInfo } from '../fixtures/object-info.js';
import { EXAMPLES_DIR, loadExample } from '../engine/formats/helpers.js';
import { COMFYUI_EXAMPLES, itWith } from '../fixtures/shared-data.js';

const IMG2IMG = path.join(EXAMPLES_DIR, 'img2img_img2img_workflow.png');

describe('loadWorkflowFile', () => {
  let tmp: string;
  let info: Record<string, ObjectInfoEntry>;
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'lf-load-'));
    info = await realObjectInfo();
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  itWith(COMFYUI_EXAMPLES, "reads a ComfyUI PNG from its workflow chunk and remaps checkpoints and input images", async (ctx) => {
    const ex = loadExample('img2img_img2img_workflow.png');
    const missing = Object.values(ex.prompt).filter((n) => !Object.hasOwn(info, n.class_type));
    if (missing.length) ctx.skip(`node types not registered yet: ${missing.map((n) => n.class_type).join(', ')}`);
    const loaded = await loadWorkflowFile(IMG2IMG, { objectInfo: info, mapCheckpoint: ['v1-5-pruned-emaonly.ckpt=toy'], mapInput: ['example.png=red.png'] });
    expect(loaded.format).toBe('ui-0.4');
    expect(loaded.remapped).toEqual([
      { nodeId: '14', input: 'ckpt_name', from: 'v1-5-pruned-emaonly.ckpt', to: 'toy' },
      { nodeId: '10', input: 'image', from: 'example.png', to: 'red.png' },
    ]);
    const prompt = loaded.prompt as Record<string, { inputs: Record<string, unknown> }>;
    expect(prompt['14']!.inputs.ckpt_name).toBe('toy');
    expect(prompt['10']!.inputs.image).toBe('red.png');
    // the UI document written into saved PNGs carries the same names
    expect(stringifyJson(loaded.workflow)).toContain('"toy"');
    expect(stringifyJson(loaded.workflow)).not.toContain('v1-5-pruned-emaonly.ckpt');
  });

  it('reads UI-format JSON and names unknown node types', async () => {
    const file = path.join(tmp, 'ui.json');
    writeFileSync(file, stringifyJson({ nodes: [{ id: 1, type: 'NoSuchNode' }, { id: 2, type: 'PrimitiveInt', widgets_values: [5, 'fixed'] }], links: [] }));
    await expect(loadWorkflowFile(file, { objectInfo: info })).rejects.toThrow(UnknownNodeTypesError);
    writeFileSync(file, stringifyJson({ nodes: [{ id: 2, type: 'PrimitiveInt', widgets_values: [5, 'fixed'] }], links: [] }));
    const loaded = await loadWorkflowFile(file, { objectInfo: info });
    expect((loaded.prompt as Record<string, { class_type: string }>)['2']!.class_type).toBe('PrimitiveInt');
  });

  it('rejects UI documents when no object_info is given', async () => {
    const file = path.join(tmp, 'ui2.json');
    writeFileSync(file, stringifyJson({ nodes: [], links: [] }));
    await expect(loadWorkflowFile(file)).rejects.toThrow(WorkflowParseError);
  });

  itWith(COMFYUI_EXAMPLES, 'rejects malformed maps, and loads a PNG from its prompt chunk when no object_info is given', async () => {
    await expect(loadWorkflowFile(IMG2IMG, { objectInfo: info, mapCheckpoint: ['nothing'] })).rejects.toThrow(ValueMapError);
    // without object_info a PNG still loads from its prompt chunk, as before
    const legacy = await loadWorkflowFile(IMG2IMG);
    expect(legacy.prompt).toEqual(loadExample('img2img_img2img_workflow.png').prompt);
  });
});
