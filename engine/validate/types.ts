/** ComfyUI's validation error types, as clients match on them. */
export type ValidationErrorType =
  | 'invalid_prompt'
  | 'prompt_no_outputs'
  | 'prompt_outputs_failed_validation'
  | 'required_input_missing'
  | 'bad_linked_input'
  | 'return_type_mismatch'
  | 'invalid_input_type'
  | 'value_smaller_than_min'
  | 'value_bigger_than_max'
  | 'value_not_in_list'
  | 'custom_validation_failed'
  | 'exception_during_validation'
  | 'dependency_cycle'
  // latentflow's own: the run's estimated peak memory does not fit the memory budget (docs/server.md).
  | 'memory_budget_exceeded';

export interface ErrorExtraInfo {
  input_name?: string;
  input_config?: unknown;
  received_value?: unknown;
  received_type?: string;
  linked_node?: [string, number];
  [k: string]: unknown;
}

/** One error in ComfyUI's shape. */
export interface ValidationIssue {
  type: ValidationErrorType;
  message: string;
  details: string;
  extra_info: ErrorExtraInfo;
}

export interface NodeErrors {
  errors: ValidationIssue[];
  dependent_outputs: string[];
  class_type: string;
}

/** A checked input: either a constant (already coerced) or a link to an upstream output slot. */
export type ResolvedInput = { kind: 'const'; value: unknown } | { kind: 'link'; from: string; slot: number; coerce?: 'int-to-float' };

export interface ResolvedNode {
  id: string;
  classType: string;
  inputs: Record<string, ResolvedInput>;
  title?: string;
}

export interface ValidationResult {
  ok: boolean;
  /** The top-level error of ComfyUI's 400 response, when the prompt cannot run at all. */
  error?: ValidationIssue;
  node_errors: Record<string, NodeErrors>;
  /** Output nodes whose whole ancestry validated; these are the ones that will run. */
  outputs: string[];
  /** Every node reachable from the good outputs, inputs resolved and coerced, in dependency order. */
  nodes: Map<string, ResolvedNode>;
}
