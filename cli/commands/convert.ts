import { writeFile } from 'node:fs/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { EngineError, checkStructure, stringifyJson } from '../../engine/index.js';
import { apiToUi } from '../../engine/formats/index.js';
import { loadWorkflowFile } from '../load-workflow.js';
import { openHost, hostOptions, type HostFlags } from '../host-flags.js';
import { collect } from '../option-values.js';
import { hostFlagsOn } from './run.js';

export interface ConvertFlags extends HostFlags {
  to: 'api' | 'ui';
  out?: string;
  mapCheckpoint: string[];
  mapInput: string[];
}

export interface ConvertIo {
  write(text: string): void;
  error(text: string): void;
}

const stdio: ConvertIo = { write: (t) => process.stdout.write(t), error: (t) => process.stderr.write(t) };

function target(value: string): 'api' | 'ui' {
  if (value !== 'api' && value !== 'ui') throw new InvalidArgumentError("expected 'api' or 'ui'");
  return value;
}

/**
 * `latentflow convert <file.json|file.png> --to api|ui [-o out]`: reads any workflow format
 * (docs/workflow-formats.md) and writes it as API JSON or as latentflow's UI document.
 * Exit 0 on success, 2 when the input cannot be read or converted.
 */
export async function convertCommand(file: string, flags: ConvertFlags, io: ConvertIo = stdio): Promise<number> {
  const host = await openHost(hostOptions(flags));
  try {
    const objectInfo = host.engine.objectInfo();
    const loaded = await loadWorkflowFile(file, {
      objectInfo,
      mapCheckpoint: flags.mapCheckpoint,
      mapInput: flags.mapInput,
      onWarning: (m) => io.error(`warning: ${m}\n`),
    });
    const shape = checkStructure(loaded.prompt);
    if (!shape.ok) {
      io.error(`invalid workflow ${file}:\n${shape.issues.map((i) => `  ${i.message}`).join('\n')}\n`);
      return 2;
    }
    let doc: unknown;
    if (flags.to === 'api') doc = loaded.prompt;
    else doc = loaded.workflow ?? apiToUi(shape.workflow, objectInfo, { onWarning: (m) => io.error(`warning: ${m}\n`) });
    const text = `${stringifyJson(doc, 2)}\n`;
    if (flags.out) await writeFile(flags.out, text);
    else io.write(text);
    for (const r of loaded.remapped) io.error(`node ${r.nodeId} ${r.input}: ${r.from} -> ${r.to}\n`);
    return 0;
  } catch (e) {
    if (e instanceof EngineError) {
      io.error(`cannot convert ${file}: ${e.message}\n`);
      return 2;
    }
    throw e;
  } finally {
    await host.close();
  }
}

export function registerConvert(program: Command): void {
  const cmd = program
    .command('convert')
    .description('convert a workflow (API or UI JSON, or a PNG carrying one) to API or UI format')
    .argument('<file>', 'workflow .json or .png')
    .requiredOption('--to <format>', 'api | ui', target)
    .option('-o, --out <file>', 'write here instead of standard output')
    .option('--map-checkpoint <old=new>', 'use checkpoint new wherever the workflow names old; repeatable', collect, [])
    .option('--map-input <old=new>', 'use input image new wherever the workflow loads old; repeatable', collect, []);
  hostFlagsOn(cmd);
  cmd.action(async (file: string, flags: ConvertFlags) => {
    process.exitCode = await convertCommand(file, flags);
  });
}
