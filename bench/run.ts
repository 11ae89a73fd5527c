/**
 * Runs every `bench/*.bench.ts` (or those whose name contains an argument) one after another and prints
 * what each measures. Numbers are ratios and rates measured within one run, on a shared, noisy machine.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

let failed = 0;
for (const f of files) {
  console.log(`\n=== ${f.replace('.bench.ts', '')} ===`);
  const t0 = performance.now();
  try {
    const mod: { default: () => Promise<void> } = await import(pathToFileURL(path.join(dir, f)).href);
    await mod.default();
  } catch (e) {
    failed++;
    console.log(`FAILED: ${e instanceof Error ? e.stack : String(e)}`);
  }
  console.log(`(${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}
process.exit(failed ? 1 : 0);
