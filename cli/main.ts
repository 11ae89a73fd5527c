import { Command } from 'commander';
import { registerRun } from './commands/run.js';
import { registerInspect } from './commands/inspect.js';
import { registerToyworld } from './commands/toyworld.js';
import { registerConvert } from './commands/convert.js';
import { registerServe } from './commands/serve.js';
import { registerClip } from './commands/clip.js';
import { registerModels } from './commands/models.js';
import { registerWorker } from './commands/worker.js';

/** The `latentflow` command line; each command lives in cli/commands/. */
export function buildProgram(): Command {
  const program = new Command('latentflow')
    .description('node-graph workflows for CLIP and latent diffusion on ONNX (ComfyUI-compatible)')
    .version('0.1.0')
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
  process.stderr.write(`latentflow: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
}
