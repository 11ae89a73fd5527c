import path from 'node:path';
import type { Command } from 'commander';

/** `latentflow toyworld`: (re)generates the built-in analytic model pack into models/. */
export function registerToyworld(program: Command): void {
  program
    .command('toyworld')
    .description('generate the built-in toyworld model pack into <base-dir>/models (and example inputs into input/)')
    .option('--if-missing', 'do nothing when the pack is already there')
    .option('--base-dir <dir>', 'base folder', process.cwd())
    .option('--models-dir <dir>', 'models folder (default <base-dir>/models)')
    .option('--input-dir <dir>', 'input folder for the example pictures (default <base-dir>/input)')
    .action(async (flags: { ifMissing?: boolean; baseDir: string; modelsDir?: string; inputDir?: string }) => {
      const { generateToyworld } = await import('../../toyworld/generate.js');
      const { writeExampleInputs } = await import('../../toyworld/example-inputs.js');
      const dir = path.resolve(flags.modelsDir ?? path.join(flags.baseDir, 'models'));
      const t0 = Date.now();
      const r = await generateToyworld(dir, { ifMissing: flags.ifMissing, log: (m) => process.stderr.write(`${m}\n`) });
      if (r.skipped) process.stderr.write(`toyworld: already present in ${dir}\n`);
      else process.stderr.write(`toyworld: wrote ${r.written.length} models to ${dir} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
      const input = path.resolve(flags.inputDir ?? path.join(flags.baseDir, 'input'));
      const inputs = await writeExampleInputs(input);
      if (inputs.length) process.stderr.write(`toyworld: example inputs for workflows/ written to ${input}: ${inputs.join(', ')}\n`);
    });
}
