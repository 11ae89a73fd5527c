import { Engine, checkStructure, stringifyJson, type EngineEvent, type ExecutionResult, type RunOptions, type ValidationResult } from '../engine/index.js';
import type { Folders } from '../runtime/services.js';
import { promptTag } from '../host/job-files.js';
import { DistributedClient, type DistributedClientOptions } from './client.js';
import { RemoteOutputError, collectInputs, placeOutputs } from './files.js';
import { DEFAULT_INLINE_MAX_BYTES, bullJobId, resultMessages, resultOutputs, type RemoteJobData } from './protocol.js';

const TERMINAL = new Set(['execution_success', 'execution_error', 'execution_interrupted']);

type ErrorData = Extract<EngineEvent, { type: 'execution_error' }>['data'];

function errorData(promptId: string, type: string, message: string, node = '', nodeType = ''): ErrorData {
  return { prompt_id: promptId, node_id: node, node_type: nodeType, executed: [], exception_message: message, exception_type: type, traceback: [], current_inputs: {}, current_outputs: {}, timestamp: Date.now() };
}

export interface RemoteEngineOptions extends DistributedClientOptions {
  /** The server's folders: inputs are read from here, results written here so /view serves them. */
  readonly folders: Folders;
}

/**
 * The server's engine when it runs with `--redis`: validation stays local (the same registry), but
 * `runValidated` hands the prompt to a worker through BullMQ and relays the worker's events, so the
 * server's runner keeps its history and WebSocket behaviour unchanged. Terminal events come once,
 * from the job's final end (a retried attempt's error is not the prompt's end).
 */
export class RemoteEngine extends Engine {
  private constructor(
    local: Engine,
    readonly client: DistributedClient,
    private readonly folders: Folders,
  ) {
    super({ registry: local.registry, files: local.files, services: local.services });
  }

  static async open(local: Engine, opts: RemoteEngineOptions): Promise<RemoteEngine> {
    return new RemoteEngine(local, await DistributedClient.open(opts), opts.folders);
  }

  override async runValidated(workflow: unknown, v: ValidationResult, opts: RunOptions = {}): Promise<ExecutionResult> {
    const promptId = opts.promptId ?? '';
    const emit = (e: EngineEvent) => opts.onEvent?.(e);
    const fail = (type: string, message: string, node = '', nodeType = '', started = false): ExecutionResult => {
      if (!started) emit({ type: 'execution_start', data: { prompt_id: promptId, timestamp: Date.now() } });
      const data = errorData(promptId, type, message, node, nodeType);
      emit({ type: 'execution_error', data });
      return { status: 'error', promptId, outputs: {}, executed: [], cached: [], error: { nodeId: node, nodeType, errorType: type, message }, messages: [['execution_start', { prompt_id: promptId }], ['execution_error', data]] };
    };
    const shape = checkStructure(workflow);
    if (!shape.ok) return fail('ValidationError', shape.issues.map((i) => i.message).join('; '));
    const id = bullJobId('prompt', promptId);
    const data: RemoteJobData = {
      v: 1,
      kind: 'prompt',
      fileTag: promptTag(promptId),
      promptId,
      workflow: stringifyJson(shape.workflow),
      extraData: stringifyJson(opts.extraData ?? {}),
      targets: v.outputs,
      inputs: await collectInputs(shape.workflow, this.folders.input),
      inlineMaxBytes: DEFAULT_INLINE_MAX_BYTES,
      submittedAt: Date.now(),
      previews: opts.previews ?? opts.onEvent !== undefined,
    };
    let started = false;
    const outcome = await this.client.run(id, data, {
      signal: opts.signal,
      onEvent: (ev) => {
        if (ev.kind === 'start') return;
        const e = ev.event;
        if (TERMINAL.has(e.type)) return;
        if (e.type === 'execution_start') {
          if (started) return;
          started = true;
        }
        if (e.type === 'progress' && ev.previewJpeg) emit({ ...e, preview: { format: 'JPEG', data: Buffer.from(ev.previewJpeg, 'base64') } });
        else emit(e);
      },
    });
    if (outcome.state === 'cancelled') {
      if (!started) emit({ type: 'execution_start', data: { prompt_id: promptId, timestamp: Date.now() } });
      const data = { prompt_id: promptId, node_id: '', node_type: '', executed: [], timestamp: Date.now() };
      emit({ type: 'execution_interrupted', data });
      return { status: 'interrupted', promptId, outputs: {}, executed: [], cached: [], messages: [['execution_interrupted', data]] };
    }
    if (outcome.state === 'failed') {
      const e = outcome.error;
      return e ? fail(e.type, e.message, e.node, e.node_type, started) : fail('RemoteJobError', outcome.reason, '', '', started);
    }
    const r = outcome.result;
    try {
      await placeOutputs(r.files, { output: this.folders.output, temp: this.folders.temp });
    } catch (e) {
      if (e instanceof RemoteOutputError) return fail(e.name, e.message, '', '', started);
      throw e;
    }
    const messages = resultMessages(r);
    const last = messages.findLast(([type]) => TERMINAL.has(type));
    if (last && (last[0] === 'execution_success' || last[0] === 'execution_interrupted') && typeof last[1] === 'object' && last[1] !== null) {
      const d = last[1];
      if (last[0] === 'execution_success') emit({ type: 'execution_success', data: { prompt_id: promptId, timestamp: 'timestamp' in d && typeof d.timestamp === 'number' ? d.timestamp : Date.now() } });
      else emit({ type: 'execution_interrupted', data: { prompt_id: promptId, node_id: '', node_type: '', executed: [...r.executed], timestamp: Date.now() } });
    }
    // An interrupted run is not a result to keep: a later dispatch of this prompt must run it again.
    await this.client.forget(id);
    return { status: r.status, promptId, outputs: resultOutputs(r), executed: [...r.executed], cached: [...r.cached], messages };
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
