/** Base of every error the engine raises; `details` carries machine-readable context. */
export class EngineError extends Error {
  override name = 'EngineError';
}

/** The workflow text is not JSON or not shaped like an API-format workflow. */
export class WorkflowParseError extends EngineError {
  override name = 'WorkflowParseError';
}

/** A node type, socket type or other name that the registry does not know. */
export class UnknownNodeTypeError extends EngineError {
  override name = 'UnknownNodeTypeError';
  constructor(readonly classType: string, readonly nodeIds: readonly string[] = []) {
    super(`unknown node type '${classType}'${nodeIds.length ? ` (used by node ${nodeIds.join(', ')})` : ''}`);
  }
}

/** Two node definitions registered under one type name. */
export class DuplicateNodeTypeError extends EngineError {
  override name = 'DuplicateNodeTypeError';
}

/** A definition that breaks the node contract (bad socket id, reserved output name, ...). */
export class NodeDefinitionError extends EngineError {
  override name = 'NodeDefinitionError';
}

/** The workflow failed validation; `result` holds every error in ComfyUI's shape. */
export class ValidationFailedError extends EngineError {
  override name = 'ValidationFailedError';
  constructor(message: string, readonly result: import('./validate/types.js').ValidationResult) {
    super(message);
  }
}

/** Execution was stopped through the job's AbortSignal. */
export class InterruptedError extends EngineError {
  override name = 'InterruptedError';
  constructor(message = 'Processing interrupted') {
    super(message);
  }
}

/** A node's `run` threw; wraps the original error with the node id and type. */
export class NodeExecutionError extends EngineError {
  override name = 'NodeExecutionError';
  constructor(
    readonly nodeId: string,
    readonly classType: string,
    readonly original: unknown,
  ) {
    super(`node ${nodeId} (${classType}): ${original instanceof Error ? original.message : String(original)}`);
  }
}

/** Thrown by a node when one of its inputs holds a value it cannot use. */
export class NodeInputError extends EngineError {
  override name = 'NodeInputError';
  constructor(readonly inputName: string, reason: string) {
    super(`input '${inputName}': ${reason}`);
  }
}

export function isAbortError(e: unknown): boolean {
  return e instanceof InterruptedError || (e instanceof Error && e.name === 'AbortError');
}
