import path from 'node:path';
import type { Command } from 'commander';
import { EngineError, ValidationFailedError, checkStructure, type ApiWorkflow, type JsonValue } from '../../engine/index.js';
import { checkWorkflowFile, loadWorkflowFile, WorkflowFileError } from '../load-workflow.js';
import { ensureStarterFiles } from '../starter-files.js';
import { resolveFolders } from '../../host/host.js';
import { checkMemory } from '../../host/memory-admission.js';
import { applyOverrides, parseSet } from '../overrides.js';
import { formatValidationErrors } from '../print-validation.js';
import { humanReporter, jsonReporter } from '../progress-reporter.js';
import { openHost, hostOptions, type HostFlags } from '../host-flags.js';
import { batchCommand, type BatchFlags } from '../batch/command.js';
import { describeActive } from '../../runtime/devices.js';
import { MODEL_POOL } from '../../runtime/services.js';
import { collect, DEVICE_HELP, deviceOption, positiveInt } from '../option-values.js';

export const EXIT = { ok: 0, failed: 1, invalid: 2 } as const;

interface RunFlags extends HostFlags {
  set: string[];
  mapCheckpoint: string[];
  mapInput: string[];
  json?: boolean;
}

/** `latentflow run <workflow>`: validate, execute in-process, print where outputs went. */
export async function runCommand(file: string, flags: RunFlags): Promise<number> {
  let prompt: ApiWorkflow;
  let workflow: JsonValue | undefined;
  const opts = hostOptions(flags);
  try {
    await checkWorkflowFile(file);
  } catch (e) {
    if (!(e instanceof WorkflowFileError)) throw e;
    process.stderr.write(`invalid workflow: ${e.message}\n`);
    return EXIT.invalid;
  }
  // A fresh clone's first run gets the toyworld pack and example inputs; an existing model folder is left alone.
  await ensureStarterFiles(resolveFolders(opts), { log: (m) => process.stderr.write(`${m}\n`) });
  const host = await openHost(opts);
  if (opts.device && opts.device.kind !== 'cpu') process.stderr.write(`latentflow: ${describeActive(host.services.get(MODEL_POOL).device)}\n`);
  try {
    try {
      const loaded = await loadWorkflowFile(file, {
        objectInfo: host.engine.objectInfo(),
        mapCheckpoint: flags.mapCheckpoint,
        mapInput: flags.mapInput,
        onWarning: (m) => process.stderr.write(`warning: ${m}\n`),
      });
      workflow = loaded.workflow;
      const shape = checkStructure(loaded.prompt);
      if (!shape.ok) {
        process.stderr.write(`invalid workflow ${file}:\n${shape.issues.map((i) => `  ${i.message}`).join('\n')}\n`);
        return EXIT.invalid;
      }
      prompt = applyOverrides(shape.workflow, flags.set.map(parseSet));
    } catch (e) {
      if (e instanceof EngineError) {
        process.stderr.write(`invalid workflow: ${e.message}\n`);
        return EXIT.invalid;
      }
      throw e;
    }
    const v = host.engine.validate(prompt);
    if (!v.ok || Object.keys(v.node_errors).length) {
      process.stderr.write(`invalid workflow ${file}:\n${formatValidationErrors(v).join('\n')}\n`);
      return EXIT.invalid;
    }
    const refused = await checkMemory(host.engine, prompt, v);
    if (refused) {
      process.stderr.write(`invalid workflow ${file}:\n  ${refused.error.message}\n`);
      return EXIT.invalid;
    }
    const classOf = (id: string) => prompt[id]?.class_type ?? '?';
    const reporter = flags.json ? jsonReporter((l) => process.stdout.write(`${l}\n`)) : humanReporter(process.stderr, classOf);
    const ac = new AbortController();
    const onSigint = () => ac.abort();
    process.once('SIGINT', onSigint);
    const result = await host.engine.runValidated(prompt, v, {
      signal: ac.signal,
      // Terminal progress shows step counts, not pictures: previews would be rendered for nobody.
      previews: false,
      onEvent: (ev) => reporter.onEvent(ev),
      extraData: workflow !== undefined ? { extra_pnginfo: { workflow } } : undefined,
    });
    process.off('SIGINT', onSigint);
    reporter.done();
    if (!flags.json) {
      for (const [id, ui] of Object.entries(result.outputs)) {
        for (const line of ui.text ?? []) process.stdout.write(`${String(line)}  (node ${id} ${prompt[id]?.class_type ?? ''})\n`);
        for (const img of (ui.images ?? []) as { filename: string; subfolder: string; type: string }[]) {
          const root = img.type === 'temp' ? host.folders.temp : img.type === 'input' ? host.folders.input : host.folders.output;
          process.stdout.write(`${path.join(root, img.subfolder, img.filename)}  (node ${id})\n`);
        }
      }
    }
    if (result.status === 'success') return EXIT.ok;
    if (result.status === 'interrupted') process.stderr.write('interrupted\n');
    return EXIT.failed;
  } catch (e) {
    if (e instanceof ValidationFailedError) {
      process.stderr.write(`${formatValidationErrors(e.result).join('\n')}\n`);
      return EXIT.invalid;
    }
    throw e;
  } finally {
    await host.close();
  }
}

export function registerRun(program: Command): void {
  const cmd = program
    .command('run')
    .description('run a workflow (API or UI format JSON, or a PNG that carries one) in-process')
    .argument('<workflow>', 'workflow .json or .png')
    .option('--set <node.input=value>', 'override an input; node by id or title; repeatable', collect, [])
    .option('--json', 'print the engine events as JSON lines')
    .option('--map-checkpoint <old=new>', 'use checkpoint new wherever the workflow names old; repeatable', collect, [])
    .option('--map-input <old=new>', 'use input image new wherever the workflow loads old; repeatable', collect, [])
    .option('--batch <file>', 'run one job per row of a .jsonl or .csv file of overrides (see docs/cli.md)')
    .option('--sweep <target=values>', 'grid axis: a..b, a,b,c or @file (one value per line); repeatable', collect, [])
    .option('--jobs <n>', 'batch jobs run at once, interleaved step by step (docs/scheduling.md)', positiveInt, 1)
    .option('--concurrency <n>', 'the same as --jobs', positiveInt)
    .option('--max-batch <rows>', 'rows per U-Net call when concurrent jobs share one (1 = one row per call)', positiveInt)
    .option('--redis <url>', 'enqueue the jobs on Redis for `latentflow worker`s (a batch of one without --batch/--sweep; see docs/scale-out.md)');
  hostFlagsOn(cmd);
  cmd.action(async (file: string, flags: RunFlags & BatchFlags) => {
    process.exitCode = flags.batch !== undefined || flags.sweep.length || flags.redis !== undefined ? await batchCommand(file, flags) : await runCommand(file, flags);
  });
}

export function hostFlagsOn(cmd: Command): Command {
  return cmd
    .option('--base-dir <dir>', 'folder holding models/, input/, output/, temp/, data/', process.cwd())
    .option('--output <dir>', 'output folder (default <base-dir>/output)')
    .option('--input-dir <dir>', 'input folder (default <base-dir>/input)')
    .option('--models-dir <dir>', 'models folder (default <base-dir>/models)')
    .option('--memory-budget <GiB>', 'model memory budget in GiB', parseFloat)
    .option('--memory-limit <GiB>', "refuse jobs whose estimated peak plus the loaded models exceed this (default 75% of RAM; 0 = no check)", parseFloat)
    .option('--device <device>', DEVICE_HELP, deviceOption);
}

