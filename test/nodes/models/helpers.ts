/** Shared setup of the model-management tests: a generated toyworld pack and temp folders. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { generateToyworld } from '../../../toyworld/generate.js';

const created: string[] = [];
afterAll(() => {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
});

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}

let pack: Promise<string> | undefined;

/** A toyworld pack generated once per test file; returns its models folder. */
export function toyworldPack(): Promise<string> {
  pack ??= (async () => {
    const dir = tempDir('lf-models-pack-');
    await generateToyworld(dir);
    return dir;
  })();
  return pack;
}
