import { Command, CommanderError } from 'commander';

/** Exit code of a command line that cannot be acted on (README: "2 = invalid input"); 1 stays for runtime errors. */
export const EXIT_USAGE = 2;

type Register = (program: Command) => void;

/**
 * Each command's module, loaded only when that command runs (or for the full help): importing all of
 * them pulls in sharp, the engine and every node family, which made `latentflow --version` take 0.75 s.
 * The order is the help's order.
 */
const COMMANDS: readonly [names: readonly string[], load: () => Promise<Register>][] = [
  [['run'], async () => (await import('./commands/run.js')).registerRun],
  [['nodes', 'validate'], async () => (await import('./commands/inspect.js')).registerInspect],
  [['toyworld'], async () => (await import('./commands/toyworld.js')).registerToyworld],
  [['convert'], async () => (await import('./commands/convert.js')).registerConvert],
  [['serve'], async () => (await import('./commands/serve.js')).registerServe],
  [['classify', 'index', 'search'], async () => (await import('./commands/clip.js')).registerClip],
  [['models'], async () => (await import('./commands/models.js')).registerModels],
  [['worker'], async () => (await import('./commands/worker.js')).registerWorker],
];

/** The command word of an argument list (the first that is not an option), if any. */
function commandWord(args: readonly string[]): string | undefined {
  return args.find((a) => !a.startsWith('-'));
}

/**
 * The `latentflow` command line; each command lives in cli/commands/. Usage errors (a missing
 * argument, an unknown option, `--jobs 0`) throw CommanderError instead of exiting with 1:
 * `exitOverride` is set before the commands are added, so every subcommand inherits it.
 * Only the invoked command is registered; `--version` registers none, help and unknown words all.
 */
export async function buildProgram(args: readonly string[]): Promise<Command> {
  const program = new Command('latentflow')
    .description('node-graph workflows for CLIP and latent diffusion on ONNX (ComfyUI-compatible)')
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError();
  const word = commandWord(args);
  const versionOnly = word === undefined && args.some((a) => a === '-V' || a === '--version');
  if (versionOnly) return program;
  const own = COMMANDS.find(([names]) => word !== undefined && names.includes(word));
  for (const [, load] of own ? [own] : COMMANDS) (await load())(program);
  return program;
}

try {
  const args = process.argv.slice(2);
  await (await buildProgram(args)).parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // commander has printed the message (and help); --help and --version end here with 0.
    process.exitCode = e.exitCode === 0 ? 0 : EXIT_USAGE;
  } else {
    process.stderr.write(`latentflow: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  }
}
