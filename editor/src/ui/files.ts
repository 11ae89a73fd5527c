import { parseJson, type JsonValue } from '../../../engine/json.js';
import { stringifyExact } from '../graph/json-text.js';
import { isPng, readPngTextAsync } from '../../../engine/formats/png-text-chunks.js';

/** The file holds no workflow the editor can open. */
export class NoWorkflowError extends Error {
  override name = 'NoWorkflowError';
}

/** A dropped or chosen file as a workflow document: JSON text, or a PNG's `workflow` (else `prompt`) chunk. */
export async function readWorkflowFile(file: Blob): Promise<JsonValue> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  if (isPng(bytes)) {
    const text = await readPngTextAsync(bytes);
    const doc = text.workflow ?? text.prompt;
    if (doc === undefined) throw new NoWorkflowError("the PNG carries neither a 'workflow' nor a 'prompt' text chunk");
    try {
      return parseJson(doc);
    } catch (e) {
      if (text.prompt === undefined || doc === text.prompt) throw e;
      return parseJson(text.prompt);
    }
  }
  return parseJson(new TextDecoder().decode(bytes));
}

export function download(name: string, value: unknown): void {
  const blob = new Blob([stringifyExact(value, 2)], { type: 'application/json' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}
