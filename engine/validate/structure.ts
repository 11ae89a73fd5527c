import { Ajv, type ValidateFunction } from 'ajv';
import type { ApiWorkflow } from '../workflow.js';
import type { JsonValue } from '../json.js';

/** The structural schema of ComfyUI's API format; values of inputs are checked semantically later. */
export const API_WORKFLOW_SCHEMA = {
  type: 'object',
  additionalProperties: {
    type: 'object',
    required: ['class_type', 'inputs'],
    properties: {
      class_type: { type: 'string', minLength: 1, maxLength: 256 },
      inputs: { type: 'object' },
      _meta: { type: 'object' },
    },
  },
} as const;

let compiled: ValidateFunction<ApiWorkflow> | undefined;

/** Compiled on first use: compiling costs ajv's meta-schema work (~0.1 s), which `latentflow nodes` or `--help` never need. */
function validateShape(doc: object): doc is ApiWorkflow {
  const validate = compiled ?? new Ajv({ allErrors: true, strict: true }).compile<ApiWorkflow>(API_WORKFLOW_SCHEMA);
  compiled = validate;
  return validate(doc);
}

export interface StructureIssue {
  nodeId: string | null;
  path: string;
  message: string;
}

/** Checks the API-format shape with ajv; returns every problem found (empty when the shape is right). */
export function checkStructure(doc: JsonValue | unknown): { ok: true; workflow: ApiWorkflow } | { ok: false; issues: StructureIssue[] } {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    return { ok: false, issues: [{ nodeId: null, path: '', message: 'a workflow must be a JSON object of node id -> {class_type, inputs}' }] };
  }
  if (validateShape(doc)) return { ok: true, workflow: doc };
  const issues = (compiled?.errors ?? []).map((e) => {
    const parts = e.instancePath.split('/').filter(Boolean);
    const nodeId = parts.length ? decodeURIComponent(parts[0]!.replace(/~1/g, '/').replace(/~0/g, '~')) : null;
    return { nodeId, path: e.instancePath, message: `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'}` };
  });
  return { ok: false, issues };
}
