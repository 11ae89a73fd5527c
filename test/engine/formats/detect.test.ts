import { describe, expect, it } from 'vitest';
import { WorkflowParseError, stringifyJson, writePngText, type JsonValue } from '../../../engine/index.js';
import { detectFormat, loadAnyWorkflow } from '../../../engine/formats/detect.js';
import { apiToUi } from '../../../engine/formats/api-to-ui.js';
import { UnknownNodeTypesError, WorkflowFormatError } from '../../../engine/formats/format-errors.js';
import { LATENTFLOW_UI_VERSION } from '../../../engine/formats/ui-version.js';
import { TEST_INFO, loadExample, objectInfoFromPrompt } from './helpers.js';
import { COMFYUI_EXAMPLES, itWith } from '../../fixtures/shared-data.js';

const API = { '1': { class_type: 'Empty', inputs: { width: 8, height: 16 }, _meta: { title: 'E' } } };

describe('detectFormat', () => {
  it('names each format', () => {
    expect(detectFormat(API)).toBe('api');
    expect(detectFormat({ prompt: API, client_id: 'x' })).toBe('api-request');
    expect(detectFormat({ nodes: [], links: [], version: 0.4 })).toBe('ui-0.4');
    expect(detectFormat({ nodes: [], links: [], version: 1 })).toBe('ui-1');
    expect(detectFormat({ nodes: [], links: [{ id: 1 }] })).toBe('ui-1');
    expect(detectFormat({ nodes: [], links: [], latentflow: { version: 1 } })).toBe('latentflow');
  });

  it('rejects anything else with WorkflowFormatError', () => {
    const docs: JsonValue[] = [null, 3, 'x', [], {}, { a: 1 }, { a: { inputs: {} } }];
    for (const doc of docs) {
      expect(() => detectFormat(doc)).toThrow(WorkflowFormatError);
    }
  });
});

describe('loadAnyWorkflow', () => {
  itWith(COMFYUI_EXAMPLES, "prefers a PNG's workflow chunk and returns both forms", () => {
    const ex = loadExample('img2img_img2img_workflow.png');
    const info = objectInfoFromPrompt(ex.prompt);
    const loaded = loadAnyWorkflow(ex.bytes, info);
    expect(loaded.source).toBe('png-workflow');
    expect(loaded.format).toBe('ui-0.4');
    expect(loaded.workflowFromSource).toBe(true);
    expect(loaded.workflow.latentflow).toEqual({ version: LATENTFLOW_UI_VERSION });
    expect(loaded.prompt['10']!.inputs).toEqual({ image: 'example.png' });
  });

  itWith(COMFYUI_EXAMPLES, 'falls back to the prompt chunk when the workflow chunk cannot be used, saying why', () => {
    const ex = loadExample('img2img_img2img_workflow.png');
    const info = objectInfoFromPrompt(ex.prompt);
    const broken = writePngText(ex.bytes, { workflow: '{"nodes": [{"id": 1, "type": "SomethingCustom"}]}' });
    const warnings: string[] = [];
    const loaded = loadAnyWorkflow(broken, info, { onWarning: (w) => warnings.push(w) });
    expect(loaded.source).toBe('png-prompt');
    expect(loaded.prompt).toEqual(ex.prompt);
    expect(loaded.workflowFromSource).toBe(false);
    expect(warnings[0]).toMatch(/SomethingCustom/);
  });

  itWith(COMFYUI_EXAMPLES, 'reports the workflow chunk error when the prompt chunk fails too', () => {
    const ex = loadExample('img2img_img2img_workflow.png');
    const png = writePngText(ex.bytes, { workflow: '{"nodes": [{"id": 1, "type": "Custom"}]}', prompt: '{"1": {"class_type": "Other", "inputs": {}}}' });
    expect(() => loadAnyWorkflow(png, {})).toThrow(/Custom \(node 1\)/);
  });

  it('reads JSON text and bytes: API, /prompt bodies and UI documents', () => {
    const fromText = loadAnyWorkflow(stringifyJson(API), TEST_INFO);
    expect(fromText.prompt).toEqual(API);
    expect(fromText.workflowFromSource).toBe(false);
    expect(fromText.workflow).toEqual(apiToUi(API, TEST_INFO));
    const body = loadAnyWorkflow(new TextEncoder().encode(stringifyJson({ prompt: API })), TEST_INFO);
    expect(body.format).toBe('api-request');
    expect(body.prompt).toEqual(API);
    const ui = loadAnyWorkflow(stringifyJson(apiToUi(API, TEST_INFO)), TEST_INFO);
    expect(ui.format).toBe('latentflow');
    expect(ui.prompt).toEqual(API);
  });

  it('throws named errors for bad input', () => {
    expect(() => loadAnyWorkflow('{', TEST_INFO)).toThrow(WorkflowParseError);
    expect(() => loadAnyWorkflow('[1]', TEST_INFO)).toThrow(WorkflowFormatError);
    expect(() => loadAnyWorkflow('{"1": {"class_type": "Empty", "inputs": 5}}', TEST_INFO)).toThrow(WorkflowParseError);
    expect(() => loadAnyWorkflow('{"1": {"class_type": "Zed", "inputs": {}}}', TEST_INFO)).toThrow(UnknownNodeTypesError);
  });

  itWith(COMFYUI_EXAMPLES, 'throws WorkflowFormatError for a PNG whose chunks hold no workflow', () => {
    const ex = loadExample('img2img_img2img_workflow.png');
    const bare = writePngText(ex.bytes, { workflow: 'null', prompt: 'null' });
    expect(() => loadAnyWorkflow(bare, TEST_INFO)).toThrow(WorkflowFormatError);
  });
});
