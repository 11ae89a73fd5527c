import type { NodeRegistry } from '../registry.js';
import type { Services } from '../services.js';
import type { ApiWorkflow } from '../workflow.js';
import type { NodeDefinition } from '../define-node.js';
import type { InputSpec } from '../inputs.js';
import type { NodeErrors, ResolvedInput, ResolvedNode, ValidationIssue, ValidationResult } from './types.js';
import { isLink, unwrapLiteral } from '../workflow.js';
import { canConnect } from '../socket-types.js';
import { comboOptions } from '../inputs.js';
import { coerceConstant } from './coerce.js';
import { checkStructure } from './structure.js';
import { ancestorsOf } from '../graph/reachable.js';
import { topoSort } from '../graph/topo-sort.js';

export interface ValidateOptions {
  /** ComfyUI `partial_execution_targets`: run only these output nodes. */
  targets?: readonly string[];
}

function issue(type: ValidationIssue['type'], message: string, details: string, extra: ValidationIssue['extra_info'] = {}): ValidationIssue {
  return { type, message, details, extra_info: extra };
}

/**
 * Node ids and input names are client strings: `__proto__`, `constructor` or `toString` must mean the
 * workflow's own entries, never Object.prototype's. Lookups go through `own`, records are built as
 * Maps and turned into plain objects with own keys only at the end (Object.fromEntries).
 */
function own<T>(obj: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/** The one node id refused: JavaScript objects treat an assignment to it as a prototype change. */
const RESERVED_ID = '__proto__';

function linkDeps(node: { inputs: Record<string, unknown> }): string[] {
  const out: string[] = [];
  for (const v of Object.values(node.inputs)) if (isLink(v)) out.push(v[0]);
  return out;
}

/** Checks one node's inputs against its definition; returns the resolved inputs and its errors. */
function checkNode(id: string, wf: ApiWorkflow, def: NodeDefinition, registry: NodeRegistry, services: Services): { node: ResolvedNode; errors: ValidationIssue[] } {
  const raw = wf[id]!;
  const errors: ValidationIssue[] = [];
  const inputs: Record<string, ResolvedInput> = {};
  const all: [string, InputSpec, boolean][] = [
    ...Object.entries(def.inputs).map(([n, s]): [string, InputSpec, boolean] => [n, s, true]),
    ...Object.entries(def.optional).map(([n, s]): [string, InputSpec, boolean] => [n, s, false]),
  ];
  for (const [name, spec, required] of all) {
    const config = [spec.kind === 'COMBO' ? 'COMBO' : spec.socket, spec.info];
    const v = own(raw.inputs, name);
    if (v === undefined || v === null) {
      if (required) errors.push(issue('required_input_missing', 'Required input is missing', name, { input_name: name, input_config: config }));
      continue;
    }
    if (Array.isArray(v) && !isLink(v)) {
      errors.push(issue('bad_linked_input', 'Bad linked input, must be a length-2 list of [node_id, slot_index]', `${name}, ${JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)).slice(0, 200)}`, { input_name: name, input_config: config, received_value: v }));
      continue;
    }
    if (isLink(v)) {
      const [from, slot] = v;
      const src = own(wf, from);
      const srcDef = src ? registry.get(src.class_type) : undefined;
      if (!src) {
        errors.push(issue('bad_linked_input', 'Bad linked input: the linked node does not exist', `${name}, node '${from}' is not in the workflow`, { input_name: name, input_config: config, linked_node: v }));
        continue;
      }
      if (!srcDef) continue; // reported as an unknown node type
      const out = srcDef.outputs[slot];
      if (!out || slot < 0) {
        errors.push(issue('bad_linked_input', 'Bad linked input: output slot does not exist', `${name}, node '${from}' (${srcDef.type}) has ${srcDef.outputs.length} outputs, slot ${slot} requested`, { input_name: name, input_config: config, linked_node: v }));
        continue;
      }
      const to = spec.kind === 'COMBO' ? 'COMBO' : spec.socket;
      const check = canConnect(out.socket.id, to);
      if (!check.ok) {
        errors.push(issue('return_type_mismatch', 'Return type mismatch between linked nodes', `${name}, received_type(${out.socket.id}) mismatch input_type(${to})`, { input_name: name, input_config: config, received_type: out.socket.id, linked_node: v }));
        continue;
      }
      inputs[name] = { kind: 'link', from, slot, coerce: check.coerce };
      continue;
    }
    if (spec.kind === 'link') {
      errors.push(issue('invalid_input_type', `Input '${name}' must be linked from a ${spec.socket} output`, `${name}, received a constant`, { input_name: name, input_config: config, received_value: v }));
      continue;
    }
    const c = coerceConstant(name, spec, unwrapLiteral(v), () => comboOptions(spec, services));
    if (c.ok) inputs[name] = { kind: 'const', value: c.value };
    else errors.push(c.issue);
  }
  if (def.check && errors.length === 0) {
    const constants: Record<string, unknown> = {};
    for (const [n, r] of Object.entries(inputs)) if (r.kind === 'const') constants[n] = r.value;
    try {
      const msg = def.check(constants);
      if (msg !== undefined) errors.push(issue('custom_validation_failed', 'Custom validation failed for node', `${msg}`));
    } catch (e) {
      errors.push(issue('exception_during_validation', 'Exception when validating node', e instanceof Error ? e.message : String(e)));
    }
  }
  return { node: { id, classType: def.type, inputs, title: raw._meta?.title }, errors };
}

/**
 * Validates an API-format workflow like ComfyUI's `validate_prompt`, but reports every error at once:
 * structure (ajv), unknown classes, then each output's ancestry (inputs, links, types, ranges, cycles).
 */
export function validateWorkflow(doc: unknown, registry: NodeRegistry, services: Services, opts: ValidateOptions = {}): ValidationResult {
  const empty = new Map<string, ResolvedNode>();
  const structure = checkStructure(doc);
  if (!structure.ok) {
    const node_errors = new Map<string, NodeErrors>();
    for (const s of structure.issues) {
      if (s.nodeId === null) continue;
      let e = node_errors.get(s.nodeId);
      if (!e) node_errors.set(s.nodeId, (e = { errors: [], dependent_outputs: [], class_type: '' }));
      e.errors.push(issue('invalid_prompt', 'Invalid node', s.message));
    }
    return { ok: false, error: issue('invalid_prompt', 'Invalid prompt', structure.issues.map((i) => i.message).join('; ')), node_errors: Object.fromEntries(node_errors), outputs: [], nodes: empty };
  }
  const wf = structure.workflow;
  const ids = Object.keys(wf);
  // NOTE: every other id works; '__proto__' would be lost (or worse) wherever later code assigns
  // `record[id] = ...` on a plain object (the executor's outputs), so it is refused up front.
  if (ids.includes(RESERVED_ID)) {
    const message = `Node id '${RESERVED_ID}' is reserved; rename the node`;
    const node_errors = Object.fromEntries([[RESERVED_ID, { errors: [issue('invalid_prompt', message, `Node ID '#${RESERVED_ID}'`)], dependent_outputs: [], class_type: wf[RESERVED_ID]!.class_type }]]);
    return { ok: false, error: issue('invalid_prompt', message, `Node ID '#${RESERVED_ID}'`), node_errors, outputs: [], nodes: empty };
  }

  const unknown = ids.filter((id) => !registry.has(wf[id]!.class_type));
  if (unknown.length) {
    const node_errors = Object.fromEntries(
      unknown.map((id): [string, NodeErrors] => [id, { errors: [issue('invalid_prompt', `Cannot execute because node ${wf[id]!.class_type} does not exist.`, `Node ID '#${id}'`)], dependent_outputs: [], class_type: wf[id]!.class_type }]),
    );
    const types = [...new Set(unknown.map((id) => wf[id]!.class_type))];
    const where = types.map((t) => `${t} (node ${unknown.filter((id) => wf[id]!.class_type === t).join(', ')})`).join('; ');
    return { ok: false, error: issue('invalid_prompt', `Cannot execute because node ${types.join(', ')} does not exist.`, `Unknown node types: ${where}`), node_errors, outputs: [], nodes: empty };
  }

  let outputs = ids.filter((id) => registry.get(wf[id]!.class_type)!.outputNode);
  if (opts.targets?.length) outputs = outputs.filter((id) => opts.targets!.includes(id));
  if (outputs.length === 0) {
    return { ok: false, error: issue('prompt_no_outputs', 'Prompt has no outputs', ''), node_errors: {}, outputs: [], nodes: empty };
  }

  const deps = (id: string) => linkDeps(wf[id]!);
  const known = (id: string) => Object.hasOwn(wf, id);
  const reachable = ancestorsOf(outputs, deps, known);
  const checked = new Map<string, ResolvedNode>();
  const errorsOf = new Map<string, ValidationIssue[]>();
  for (const id of reachable) {
    const { node, errors } = checkNode(id, wf, registry.get(wf[id]!.class_type)!, registry, services);
    checked.set(id, node);
    if (errors.length) errorsOf.set(id, errors);
  }
  const { order, cyclic } = topoSort(reachable, deps);
  for (const id of cyclic) {
    const list = errorsOf.get(id) ?? [];
    list.push(issue('dependency_cycle', 'Dependency cycle detected', `node ${id} (${wf[id]!.class_type}) depends on itself through its inputs`));
    errorsOf.set(id, list);
  }

  const good: string[] = [];
  const failures = new Map<string, NodeErrors>();
  for (const out of outputs) {
    const anc = ancestorsOf([out], deps, known);
    let failed = false;
    for (const id of anc) {
      if (!errorsOf.has(id)) continue;
      failed = true;
      let e = failures.get(id);
      if (!e) failures.set(id, (e = { errors: errorsOf.get(id)!, dependent_outputs: [], class_type: wf[id]!.class_type }));
      e.dependent_outputs.push(out);
    }
    if (!failed) good.push(out);
  }
  const node_errors = Object.fromEntries(failures);
  if (good.length === 0) {
    return { ok: false, error: issue('prompt_outputs_failed_validation', 'Prompt outputs failed validation', ''), node_errors, outputs: [], nodes: empty };
  }
  const keep = ancestorsOf(good, deps, known);
  // Inserted in dependency order, so the executor can walk the map without sorting again.
  const nodes = new Map<string, ResolvedNode>();
  for (const id of order) if (keep.has(id)) nodes.set(id, checked.get(id)!);
  // Like ComfyUI, outputs whose ancestry validated still run; node_errors lists the others.
  return { ok: true, node_errors, outputs: good, nodes };
}
