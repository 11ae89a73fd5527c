import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseJson, readPngText, type ApiWorkflow, type JsonValue, type ObjectInfoEntry, type ObjectInfoInput } from '../../../engine/index.js';

export const EXAMPLES_DIR = path.resolve(import.meta.dirname, '../../../../shared/data/comfyui-examples');

/** The four example PNGs whose `workflow` chunk must convert to their `prompt` chunk. */
export const EXAMPLES = [
  '2_pass_txt2img_hiresfix_latent_workflow.png',
  'img2img_img2img_workflow.png',
  'inpaint_inpaint_example.png',
  'sdturbo_sdxlturbo_example.png',
] as const;

export interface Example {
  readonly file: string;
  readonly bytes: Uint8Array;
  readonly prompt: ApiWorkflow;
  readonly workflow: JsonValue;
}

function isApi(v: JsonValue): v is ApiWorkflow & JsonValue {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((n) => n !== null && typeof n === 'object' && !Array.isArray(n) && typeof (n as Record<string, unknown>).class_type === 'string');
}

export function loadExample(file: string): Example {
  const bytes = readFileSync(path.join(EXAMPLES_DIR, file));
  const text = readPngText(bytes);
  const prompt = parseJson(text.prompt!);
  if (!isApi(prompt)) throw new Error(`${file}: prompt chunk is not API format`);
  return { file, bytes, prompt, workflow: parseJson(text.workflow!) };
}

/** The frontend's upload button value, which old ComfyUI frontends also sent in the prompt. */
export const UPLOAD_WIDGET = 'choose file to upload';

/**
 * A stand-in object_info built from a `prompt` chunk, for developing before the real nodes land:
 * widget inputs in the order the old frontend sent them (its widget order), links as sockets.
 */
export function objectInfoFromPrompt(prompt: ApiWorkflow): Record<string, ObjectInfoEntry> {
  const info: Record<string, ObjectInfoEntry> = {};
  for (const node of Object.values(prompt)) {
    const required: Record<string, ObjectInfoInput> = {};
    let last: string | undefined;
    for (const [name, v] of Object.entries(node.inputs)) {
      if (name === UPLOAD_WIDGET) {
        if (last) required[last] = [[String(node.inputs[last])], { image_upload: true }];
        continue;
      }
      if (Array.isArray(v)) required[name] = ['*', {}];
      else if (typeof v === 'boolean') required[name] = ['BOOLEAN', {}];
      else if (typeof v === 'number' || typeof v === 'bigint') required[name] = [Number.isInteger(v) || typeof v === 'bigint' ? 'INT' : 'FLOAT', {}];
      else required[name] = ['STRING', {}];
      last = name;
    }
    info[node.class_type] = {
      input: { required },
      input_order: { required: Object.keys(required) },
      output: [],
      output_is_list: [],
      output_name: [],
      name: node.class_type,
      display_name: node.class_type,
      description: '',
      python_module: 'test',
      category: 'test',
      output_node: false,
    };
  }
  return info;
}
