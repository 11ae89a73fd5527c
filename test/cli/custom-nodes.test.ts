import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CustomNodesError, loadCustomNodes } from '../../cli/custom-nodes.js';

const dir = mkdtempSync(path.join(tmpdir(), 'lf-custom-nodes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function module(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('loadCustomNodes', () => {
  it('collects NODES of every module, in order', async () => {
    const stub = path.resolve(import.meta.dirname, '../server/stub-nodes.ts');
    const extra = module('default.mjs', "export default [{ type: 'Extra', run() {}, outputs: {} }];");
    const nodes = await loadCustomNodes([stub, extra]);
    expect(nodes.map((n) => n.type)).toEqual(['SlowImage', 'FailingNode', 'CrashNode', 'ThrowingNode', 'AllocNode', 'PreviewFlag', 'SlowSave', 'Extra']);
  });

  it('refuses a module whose export is not a list of node definitions, naming the file', async () => {
    const bad = module('bad.mjs', "export const NODES = [{ type: 'NoRun' }];");
    const none = module('none.mjs', 'export const other = 1;');
    await expect(loadCustomNodes([bad])).rejects.toThrow(new CustomNodesError(`${bad}: export NODES (or default) as an array of node definitions`));
    await expect(loadCustomNodes([none])).rejects.toThrow(CustomNodesError);
  });
});
