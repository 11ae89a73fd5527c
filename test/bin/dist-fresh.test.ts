import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { distIsFresh } from '../../bin/dist-fresh.js';
import { tempDir } from '../fixtures/temp-dir.js';

function file(root: string, rel: string, mtimeSec: number): void {
  const p = path.join(root, rel);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, '');
  utimesSync(p, mtimeSec, mtimeSec);
}

describe('distIsFresh (bin/latentflow.js runs dist/ only when it is)', () => {
  it('is false without a build, true when the build is newer than every source, false once a source changes', () => {
    const root = tempDir('lf-dist-fresh-');
    file(root, 'index.ts', 1000);
    file(root, 'engine/graph/topo-sort.ts', 1000);
    file(root, 'cli/main.ts', 1000);
    expect(distIsFresh(root)).toBe(false);
    file(root, 'dist/cli/main.js', 2000);
    expect(distIsFresh(root)).toBe(true);
    file(root, 'engine/graph/topo-sort.ts', 3000);
    expect(distIsFresh(root)).toBe(false);
  });
});
