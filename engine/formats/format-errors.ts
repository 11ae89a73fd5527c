import { EngineError } from '../errors.js';

/** A UI-format (litegraph) document that cannot be read: wrong shapes, link cycles, bad ids. */
export class UiWorkflowError extends EngineError {
  override name = 'UiWorkflowError';
  constructor(message: string, readonly nodeId?: string) {
    super(nodeId === undefined ? message : `node ${nodeId}: ${message}`);
  }
}

/** One node type that the object_info document does not describe, and the nodes that use it. */
export interface MissingNodeType {
  readonly type: string;
  readonly nodeIds: readonly string[];
}

/** Every node type of a workflow that the object_info does not describe, reported at once. */
export class UnknownNodeTypesError extends EngineError {
  override name = 'UnknownNodeTypesError';
  constructor(readonly missing: readonly MissingNodeType[]) {
    super(
      `unknown node type${missing.length === 1 ? '' : 's'}: ` +
        missing.map((m) => `${m.type} (node${m.nodeIds.length === 1 ? '' : 's'} ${m.nodeIds.join(', ')})`).join('; '),
    );
  }
}

/** A UI feature this converter does not expand (legacy group nodes). */
export class UnsupportedWorkflowFeatureError extends EngineError {
  override name = 'UnsupportedWorkflowFeatureError';
}

/** The document is none of the workflow formats latentflow reads. */
export class WorkflowFormatError extends EngineError {
  override name = 'WorkflowFormatError';
}

/** A latentflow UI document from a newer version, or one a migration step cannot read. */
export class WorkflowVersionError extends EngineError {
  override name = 'WorkflowVersionError';
}
