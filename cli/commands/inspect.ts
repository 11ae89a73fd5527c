import type { Command } from 'commander';
import { stringifyJson, EngineError } from '../../engine/index.js';
import { checkWorkflowFile, loadWorkflowFile, WorkflowFileError } from '../load-workflow.js';
import { formatValidationErrors } from '../print-validation.js';
import { openHost, hostOptions, type HostFlags } from '../host-flags.js';
import { hostFlagsOn } from './run.js';

/** `latentflow nodes [--json]` and `latentflow validate <file>`. */
export function registerInspect(program: Command): void {
  hostFlagsOn(
    program
      .command('nodes')
      .description('list node types (--json: the /object_info document)')
      .option('--json', 'print /object_info JSON'),
  ).action(async (flags: HostFlags & { json?: boolean }) => {
    const host = await openHost(hostOptions(flags));
    try {
      const info = host.engine.objectInfo();
      if (flags.json) {
        process.stdout.write(`${stringifyJson(info, 2)}\n`);
        return;
      }
      const byCat = new Map<string, string[]>();
      for (const e of Object.values(info)) {
        const list = byCat.get(e.category) ?? [];
        list.push(e.display_name === e.name ? e.name : `${e.name} (${e.display_name})`);
        byCat.set(e.category, list);
      }
      for (const cat of [...byCat.keys()].sort()) process.stdout.write(`${cat}\n  ${byCat.get(cat)!.join('\n  ')}\n`);
    } finally {
      await host.close();
    }
  });

  hostFlagsOn(program.command('validate').description('check a workflow and print every error').argument('<workflow>')).action(
    async (file: string, flags: HostFlags) => {
      try {
        await checkWorkflowFile(file);
      } catch (e) {
        if (!(e instanceof WorkflowFileError)) throw e;
        process.stderr.write(`invalid workflow: ${e.message}\n`);
        process.exitCode = 2;
        return;
      }
      const host = await openHost(hostOptions(flags));
      try {
        let prompt;
        try {
          prompt = (await loadWorkflowFile(file, { objectInfo: host.engine.objectInfo() })).prompt;
        } catch (e) {
          if (!(e instanceof EngineError)) throw e;
          process.stderr.write(`invalid workflow: ${e.message}\n`);
          process.exitCode = 2;
          return;
        }
        const v = host.engine.validate(prompt);
        if (v.ok && Object.keys(v.node_errors).length === 0) {
          process.stdout.write(`ok: ${file} (${v.nodes.size} nodes to run, outputs ${v.outputs.join(', ')})\n`);
          return;
        }
        process.stderr.write(`${formatValidationErrors(v).join('\n')}\n`);
        process.exitCode = 2;
      } finally {
        await host.close();
      }
    },
  );
}
