import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from '../../fixtures/temp-dir.js';

const run = promisify(execFile);
const BIN = path.resolve(import.meta.dirname, '../../../bin/latentflow.js');

describe('latentflow run --memory-limit', () => {
  it('refuses a workflow over the limit as invalid input (exit 2) before running it', { timeout: 120_000 }, async () => {
    const base = tempDir('lf-memlimit-');
    const wf = path.join(base, 'wf.json');
    writeFileSync(
      wf,
      JSON.stringify({
        '1': { class_type: 'EmptyImage', inputs: { width: 1024, height: 1024, batch_size: 4, color: 0 } },
        '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'big' } },
      }),
    );
    const err = await run(process.execPath, [BIN, 'run', wf, '--base-dir', base, '--memory-limit', '0.01'], { cwd: base }).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(2);
    expect(err?.stderr).toMatch(/node 1 \(EmptyImage\): the run needs about 48\.0 MiB at its peak .* over the memory limit of 10\.2 MiB/);
    // The same workflow under a limit it fits runs.
    const ok = await run(process.execPath, [BIN, 'run', wf, '--base-dir', base, '--memory-limit', '1'], { cwd: base });
    expect(ok.stdout).toContain('big_');
  });
});
