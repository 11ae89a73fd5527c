import { beforeAll, expect, it } from 'vitest';
import type { ApiWorkflow, JsonValue, ObjectInfoEntry } from '../../../engine/index.js';
import { uiToApi } from '../../../engine/formats/ui-to-api.js';
import { apiToUi } from '../../../engine/formats/api-to-ui.js';
import { widgetPositions } from '../../../engine/formats/widget-layout.js';
import { realObjectInfo } from '../../fixtures/object-info.js';
import { EXAMPLES, UPLOAD_WIDGET, loadExample, objectInfoFromPrompt } from './helpers.js';
import { COMFYUI_EXAMPLES, describeWith } from '../../fixtures/shared-data.js';

/**
 * What may legitimately differ between our conversion of a `workflow` chunk and the `prompt`
 * chunk the same ComfyUI wrote (docs/workflow-formats.md): `_meta` (older frontends wrote none),
 * the upload button's value (older frontends sent it as "choose file to upload"), and inputs
 * the node gained after the file was saved, which must then hold the widget's default.
 */
function compare(converted: ApiWorkflow, prompt: ApiWorkflow, info: Record<string, ObjectInfoEntry>) {
  const strip = (api: ApiWorkflow, other: ApiWorkflow, checkDefaults: boolean) => {
    const out: Record<string, { class_type: string; inputs: Record<string, JsonValue> }> = {};
    for (const [id, node] of Object.entries(api)) {
      const inputs = { ...node.inputs };
      delete inputs[UPLOAD_WIDGET];
      if (checkDefaults) {
        for (const name of Object.keys(inputs)) {
          if (other[id]?.inputs[name] !== undefined) continue;
          const pos = widgetPositions(info[node.class_type]!).find((p) => p.role === 'value' && p.input === name);
          expect(pos, `node ${id} input ${name} is new, so it must be a widget`).toBeDefined();
          expect(inputs[name], `node ${id} input ${name} is new, so it must hold its default`).toEqual(pos?.role === 'value' ? pos.fallback : undefined);
          delete inputs[name];
        }
      }
      out[id] = { class_type: node.class_type, inputs };
    }
    return out;
  };
  expect(strip(converted, prompt, true)).toEqual(strip(prompt, converted, false));
}

describeWith(COMFYUI_EXAMPLES, 'ComfyUI example PNGs, with object_info derived from their own prompt chunk', () => {
  for (const file of EXAMPLES) {
    it(`${file}: workflow chunk converts to the prompt chunk`, () => {
      const ex = loadExample(file);
      const info = objectInfoFromPrompt(ex.prompt);
      compare(uiToApi(ex.workflow, info), ex.prompt, info);
    });
  }
});

describeWith(COMFYUI_EXAMPLES, "ComfyUI example PNGs, with the real registry's object_info", () => {
  let info: Record<string, ObjectInfoEntry>;
  beforeAll(async () => {
    info = await realObjectInfo();
  });

  for (const file of EXAMPLES) {
    it(`${file}: workflow chunk converts to the prompt chunk, and API -> UI -> API is the identity`, (ctx) => {
      const ex = loadExample(file);
      const missing = [...new Set(Object.values(ex.prompt).map((n) => n.class_type))].filter((t) => !Object.hasOwn(info, t));
      if (missing.length) ctx.skip(`node types not registered yet: ${missing.join(', ')}`);
      const converted = uiToApi(ex.workflow, info);
      compare(converted, ex.prompt, info);
      expect(uiToApi(apiToUi(converted, info), info)).toEqual(converted);
    });
  }
});
