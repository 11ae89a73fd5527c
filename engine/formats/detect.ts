import { EngineError, WorkflowParseError } from '../errors.js';
import { parseJson, type JsonValue } from '../json.js';
import type { ObjectInfoEntry } from '../object-info.js';
import type { ApiWorkflow } from '../workflow.js';
import { checkStructure } from '../validate/structure.js';
import { apiToUi } from './api-to-ui.js';
import { WorkflowFormatError } from './format-errors.js';
import { assertApiNodeTypes } from './known-types.js';
import { migrate } from './migrate.js';
import { readPngText } from './png-text.js';
import { isPng } from './png-text-chunks.js';
import { isObject, type JsonObject } from './ui-graph.js';
import { uiToApi } from './ui-to-api.js';

/**
 * The workflow documents latentflow reads: ComfyUI's API format (bare, or a saved `/prompt`
 * request body `{prompt: ...}`), ComfyUI's UI format in litegraph schema 0.4 or 1, and
 * latentflow's own versioned UI document (docs/workflow-formats.md).
 */
export type WorkflowFormat = 'api' | 'api-request' | 'ui-0.4' | 'ui-1' | 'latentflow';

function isApiDoc(doc: JsonValue): doc is JsonObject {
  if (!isObject(doc)) return false;
  const nodes = Object.values(doc);
  return nodes.length > 0 && nodes.every((n) => isObject(n) && typeof n.class_type === 'string');
}

/** Names the format of a parsed document; throws WorkflowFormatError for anything else. */
export function detectFormat(doc: JsonValue): WorkflowFormat {
  if (isObject(doc) && Array.isArray(doc.nodes)) {
    if (doc.latentflow !== undefined) return 'latentflow';
    if (doc.version === 1 || (Array.isArray(doc.links) && doc.links.some((l) => isObject(l)))) return 'ui-1';
    return 'ui-0.4';
  }
  if (isApiDoc(doc)) return 'api';
  if (isObject(doc) && isApiDoc(doc.prompt)) return 'api-request';
  throw new WorkflowFormatError(
    'not a workflow: expected API format ({id: {class_type, inputs}}), a /prompt body ({prompt: ...}) or a UI document (with a nodes list)',
  );
}

export interface LoadedAnyWorkflow {
  /** Format of the document the workflow was taken from. */
  readonly format: WorkflowFormat;
  /** Where it came from: a JSON document, or a PNG's `workflow` or `prompt` text chunk. */
  readonly source: 'json' | 'png-workflow' | 'png-prompt';
  /** The executable API-format workflow. */
  readonly prompt: ApiWorkflow;
  /** The UI form: the source's UI document migrated to the current version, or one laid out from the API. */
  readonly workflow: JsonObject;
  /** True when `workflow` came from the source rather than being generated from the API form. */
  readonly workflowFromSource: boolean;
}

export interface LoadOptions {
  onWarning?: (message: string) => void;
}

function apiFromDoc(doc: JsonObject, objectInfo: Record<string, ObjectInfoEntry>): ApiWorkflow {
  const shape = checkStructure(doc);
  if (!shape.ok) throw new WorkflowParseError(`invalid API workflow: ${shape.issues.map((i) => i.message).join('; ')}`);
  assertApiNodeTypes(shape.workflow, objectInfo);
  return shape.workflow;
}

function fromDocument(doc: JsonValue, objectInfo: Record<string, ObjectInfoEntry>, source: LoadedAnyWorkflow['source'], opts: LoadOptions): LoadedAnyWorkflow {
  const format = detectFormat(doc);
  if (format === 'api' || format === 'api-request') {
    const body = isObject(doc) && format === 'api-request' ? doc.prompt : doc;
    const prompt = apiFromDoc(isObject(body) ? body : {}, objectInfo);
    return { format, source, prompt, workflow: apiToUi(prompt, objectInfo, opts), workflowFromSource: false };
  }
  const workflow = migrate(isObject(doc) ? doc : {});
  return { format, source, prompt: uiToApi(workflow, objectInfo, opts), workflow, workflowFromSource: true };
}

/**
 * Reads any workflow latentflow understands, from JSON text or bytes (a PNG's `workflow` chunk
 * preferred, its `prompt` chunk as fallback), and returns both the API and the UI form.
 * Throws named errors only: WorkflowParseError, WorkflowFormatError, WorkflowVersionError,
 * UiWorkflowError, UnknownNodeTypesError, UnsupportedWorkflowFeatureError, PngFormatError.
 */
export function loadAnyWorkflow(input: Uint8Array | string, objectInfo: Record<string, ObjectInfoEntry>, opts: LoadOptions = {}): LoadedAnyWorkflow {
  if (typeof input === 'string') return fromDocument(parseJson(input), objectInfo, 'json', opts);
  if (!isPng(input)) return fromDocument(parseJson(new TextDecoder('utf-8').decode(input)), objectInfo, 'json', opts);
  const text = readPngText(input);
  if (text.workflow === undefined && text.prompt === undefined) {
    throw new WorkflowFormatError("the PNG carries neither a 'workflow' nor a 'prompt' text chunk");
  }
  if (text.workflow !== undefined) {
    try {
      return fromDocument(parseJson(text.workflow), objectInfo, 'png-workflow', opts);
    } catch (e) {
      if (text.prompt === undefined || !(e instanceof EngineError)) throw e;
      try {
        const loaded = fromDocument(parseJson(text.prompt), objectInfo, 'png-prompt', opts);
        opts.onWarning?.(`the PNG's 'workflow' chunk could not be used (${e.message}); ran its 'prompt' chunk instead`);
        return loaded;
      } catch {
        throw e;
      }
    }
  }
  return fromDocument(parseJson(text.prompt!), objectInfo, 'png-prompt', opts);
}
