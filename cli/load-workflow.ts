import { readFile, stat } from 'node:fs/promises';
import { parseJson, readPngText, WorkflowParseError, type ApiWorkflow, type JsonValue, type ObjectInfoEntry } from '../engine/index.js';
import {
  inputNamed,
  loadAnyWorkflow,
  parseValueMap,
  remapApiInputs,
  remapUiWidgets,
  uploadInputs,
  type InputSelector,
  type JsonObject,
  type Remapped,
  type WorkflowFormat,
} from '../engine/formats/index.js';

export interface LoadedWorkflow {
  /** The API-format document to run (checked with checkStructure by the caller). */
  readonly prompt: JsonValue | ApiWorkflow;
  /** The UI-format document when the source carried one (written back into saved PNGs). */
  readonly workflow?: JsonValue;
  readonly source: string;
  /** The format the workflow was read from, when known. */
  readonly format?: WorkflowFormat;
  /** Values changed by `mapCheckpoint` / `mapInput`. */
  readonly remapped: readonly Remapped[];
}

export interface LoadWorkflowOptions {
  /** The engine's object_info: needed to read UI-format documents (ComfyUI's or latentflow's). */
  readonly objectInfo?: Record<string, ObjectInfoEntry>;
  /** `old=new` checkpoint names (`ckpt_name` inputs), as given on the command line. */
  readonly mapCheckpoint?: readonly string[];
  /** `old=new` input image names (LoadImage and other upload combos). */
  readonly mapInput?: readonly string[];
  readonly onWarning?: (message: string) => void;
}

/** The workflow argument names no readable file (missing, a directory, unreadable): invalid input, exit 2. */
export class WorkflowFileError extends WorkflowParseError {
  override name = 'WorkflowFileError';
}

const WHY: Record<string, string> = { ENOENT: 'no such file', EISDIR: 'is a directory', ENOTDIR: 'no such file', EACCES: 'permission denied', EPERM: 'permission denied', ENAMETOOLONG: 'name too long', ELOOP: 'too many symbolic links' };

function fileError(file: string, e: unknown): unknown {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code && WHY[code] ? new WorkflowFileError(`cannot read workflow '${file}': ${WHY[code]}`) : e;
}

/** Throws WorkflowFileError unless `file` is a readable regular file; cheap, so commands check before loading models. */
export async function checkWorkflowFile(file: string): Promise<void> {
  let st;
  try {
    st = await stat(file);
  } catch (e) {
    throw fileError(file, e);
  }
  if (st.isDirectory()) throw new WorkflowFileError(`cannot read workflow '${file}': is a directory`);
  if (!st.isFile()) throw new WorkflowFileError(`cannot read workflow '${file}': not a regular file`);
}

function isApiFormat(doc: JsonValue): boolean {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return false;
  const values = Object.values(doc);
  return values.length > 0 && values.every((v) => v !== null && typeof v === 'object' && !Array.isArray(v) && 'class_type' in v);
}

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Without an object_info only API documents can be read: JSON, a `/prompt` body, or a PNG's `prompt` chunk. */
function loadApiOnly(file: string, bytes: Buffer): { prompt: JsonValue; workflow?: JsonValue } {
  if (bytes.subarray(0, 8).equals(PNG)) {
    const text = readPngText(bytes);
    if (text.prompt === undefined) throw new WorkflowParseError(`${file}: the PNG carries no 'prompt' chunk`);
    return { prompt: parseJson(text.prompt), workflow: text.workflow ? parseJson(text.workflow) : undefined };
  }
  const doc = parseJson(bytes.toString('utf8'));
  if (isApiFormat(doc)) return { prompt: doc };
  if (doc !== null && typeof doc === 'object' && !Array.isArray(doc) && 'prompt' in doc && isApiFormat(doc.prompt!)) return { prompt: doc.prompt! };
  throw new WorkflowParseError(`${file}: not an API-format workflow (an object of node id -> {class_type, inputs})`);
}

function remap(
  prompt: ApiWorkflow,
  workflow: JsonObject | undefined,
  info: Record<string, ObjectInfoEntry>,
  rules: [InputSelector, Map<string, string>][],
): { prompt: ApiWorkflow; workflow: JsonObject | undefined; remapped: Remapped[] } {
  const remapped: Remapped[] = [];
  for (const [select, map] of rules) {
    if (map.size === 0) continue;
    const api = remapApiInputs(prompt, info, select, map);
    prompt = api.workflow;
    remapped.push(...api.changed);
    if (workflow) workflow = remapUiWidgets(workflow, info, select, map).document;
  }
  return { prompt, workflow, remapped };
}

/**
 * Reads a workflow from JSON (API format, a `/prompt` body, ComfyUI's UI format, latentflow's UI
 * document) or a PNG (its `workflow` chunk preferred, `prompt` as fallback). UI documents need
 * `opts.objectInfo`; without it only API documents load. Applies `--map-checkpoint`/`--map-input`.
 */
export async function loadWorkflowFile(file: string, opts: LoadWorkflowOptions = {}): Promise<LoadedWorkflow> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw fileError(file, e);
  }
  const info = opts.objectInfo;
  if (!info) {
    const legacy = loadApiOnly(file, bytes);
    return { ...legacy, source: file, remapped: [] };
  }
  const loaded = loadAnyWorkflow(bytes, info, { onWarning: opts.onWarning });
  const rules: [InputSelector, Map<string, string>][] = [
    [inputNamed('ckpt_name'), parseValueMap(opts.mapCheckpoint ?? [])],
    [uploadInputs, parseValueMap(opts.mapInput ?? [])],
  ];
  const out = remap(loaded.prompt, loaded.workflowFromSource ? loaded.workflow : undefined, info, rules);
  return { prompt: out.prompt, workflow: out.workflow, source: file, format: loaded.format, remapped: out.remapped };
}
