import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { generateToyworld } from '../toyworld/generate.js';
import { writeExampleInputs } from '../toyworld/example-inputs.js';

async function isEmpty(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).filter((f) => !f.startsWith('.')).length === 0;
  } catch {
    return true;
  }
}

/**
 * What a fresh installation needs to produce a first image: the toyworld pack and the example inputs the
 * shipped workflows load. `always` (serve, `latentflow toyworld`) checks every time; otherwise only a base
 * folder without any checkpoint is provisioned, so a user's own model folder is never filled with toys.
 */
export async function ensureStarterFiles(folders: { models: string; input: string }, opts: { always?: boolean; log?: (m: string) => void } = {}): Promise<void> {
  const fresh = await isEmpty(path.join(folders.models, 'checkpoints'));
  if (opts.always || fresh) {
    const r = await generateToyworld(folders.models, { ifMissing: true, log: opts.log });
    if (!r.skipped) opts.log?.(`toyworld: wrote ${r.written.length} models to ${folders.models}`);
    const inputs = await writeExampleInputs(folders.input);
    if (inputs.length) opts.log?.(`example inputs written to ${folders.input}: ${inputs.join(', ')}`);
  }
}
