import { Command, CommanderError } from 'commander';
import { registerRun } from './commands/run.js';
import { registerInspect } from './commands/inspect.js';
import { registerToyworld } from './commands/toyworld.js';
import { registerConvert } from './commands/convert.js';
import { registerServe } from './commands/serve.js';
import { registerClip } from './commands/clip.js';
import { registerModels } from './commands/models.js';
import { registerWorker } from './commands/worker.js';

/** Exit code of a command line that cannot be acted on (README: "2 = invalid input"); 1 stays for runtime errors. */
export const EXIT_USAGE = 2;

/**
 * The `latentflow` command line; each command lives in cli/commands/. Usage errors (a missing
 * argument, an unknown option, `--jobs 0`) throw CommanderError instead of exiting with 1:
 * `exitOverride` is set before the commands are added, so every subcommand inherits it.
 */
export function buildProgram(): Command {
  const program = new Command('latentflow')
    .description('node-graph workflows for CLIP and latent diffusion on ONNX (ComfyUI-compatible)')
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError();
  registerRun(program);
  registerInspect(program);
  registerToyworld(program);
  registerConvert(program);
  registerServe(program);
  registerClip(program);
  registerModels(program);
  registerWorker(program);
  return program;
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // commander has printed the message (and help); --help and --version end here with 0.
    process.exitCode = e.exitCode === 0 ? 0 : EXIT_USAGE;
  } else {
    process.stderr.write(`latentflow: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  }
}
