import { readFile } from 'node:fs/promises';
import { parseJson, readPngText, WorkflowParseError, type JsonValue } from '../engine/index.js';

export interface LoadedWorkflow {
  /** The API-format document to run. */
  readonly prompt: JsonValue;
  /** The UI-format document when the source carried one (written back into saved PNGs). */
  readonly workflow?: JsonValue;
  readonly source: string;
}

function isApiFormat(doc: JsonValue): boolean {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return false;
  const values = Object.values(doc);
  return values.length > 0 && values.every((v) => v !== null && typeof v === 'object' && !Array.isArray(v) && 'class_type' in v);
}

/** Reads a workflow from API-format JSON or from a PNG's `prompt` tEXt chunk. */
export async function loadWorkflowFile(file: string): Promise<LoadedWorkflow> {
  const bytes = await readFile(file);
  if (bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) {
    const text = readPngText(bytes);
    if (text.prompt === undefined) throw new WorkflowParseError(`${file}: the PNG carries no 'prompt' chunk`);
    return { prompt: parseJson(text.prompt), workflow: text.workflow ? parseJson(text.workflow) : undefined, source: file };
  }
  const doc = parseJson(bytes.toString('utf8'));
  if (isApiFormat(doc)) return { prompt: doc, source: file };
  if (doc !== null && typeof doc === 'object' && !Array.isArray(doc) && 'prompt' in doc && isApiFormat(doc.prompt!)) {
    // A `/prompt` request body saved to a file.
    return { prompt: doc.prompt!, source: file };
  }
  throw new WorkflowParseError(`${file}: not an API-format workflow (an object of node id -> {class_type, inputs})`);
}
