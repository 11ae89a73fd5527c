/**
 * Memory admission: a run is refused before it starts when its estimated peak (engine.estimateMemory:
 * the sockets' sizes and the nodes' working-memory rules over the inferred shapes) plus the models the
 * pool holds now does not fit the memory limit. The refusal is a validation error naming the node, its
 * largest input, the estimate and the limit (docs/server.md, "Limits").
 */
import os from 'node:os';
import { serviceKey, type Engine, type NodeErrors, type ValidationIssue, type ValidationResult } from '../engine/index.js';
import { MODEL_POOL } from '../runtime/services.js';

/** Bytes a run's tensors plus the resident models may use (HostOptions.memoryLimitBytes). */
export const MEMORY_LIMIT = serviceKey<number>('memory-limit');

/** NOTE: a quarter is left to the OS, Node itself and what the estimate cannot see (U-Net activations). */
export const DEFAULT_MEMORY_LIMIT_FRACTION = 0.75;

/** The default limit: 75% of physical memory, or of the cgroup's limit when that is lower. */
export function defaultMemoryLimit(): number {
  const total = os.totalmem();
  const constrained = process.constrainedMemory?.() ?? 0;
  const usable = constrained > 0 && constrained < total ? constrained : total;
  return Math.floor(usable * DEFAULT_MEMORY_LIMIT_FRACTION);
}

/** Bytes in binary units with one decimal, for messages. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

/** A run that does not fit: the node most responsible and ComfyUI-shaped errors for it. */
export interface MemoryRefusal {
  readonly nodeId: string;
  readonly error: ValidationIssue;
  readonly nodeErrors: Record<string, NodeErrors>;
}

/**
 * Checks a validated run against the engine's MEMORY_LIMIT (no limit registered: nothing is refused).
 * Returns the refusal, or undefined when the run fits.
 */
export async function checkMemory(engine: Engine, workflow: unknown, v: ValidationResult): Promise<MemoryRefusal | undefined> {
  const limit = engine.services.tryGet(MEMORY_LIMIT);
  if (limit === undefined) return undefined;
  const est = await engine.estimateMemory(workflow, v);
  const resident = engine.services.tryGet(MODEL_POOL)?.stats().residentBytes ?? 0;
  if (est.peakBytes + resident <= limit || !est.heaviest) return undefined;
  const n = est.heaviest;
  const input = n.largestInput ? `, input '${n.largestInput.name}' [${n.largestInput.shape.join(', ')}]` : '';
  const models = resident > 0 ? ` with ${formatBytes(resident)} of models loaded` : '';
  const message =
    `node ${n.id} (${n.classType})${input}: the run needs about ${formatBytes(est.peakBytes)} at its peak ` +
    `(this node ${formatBytes(n.outputBytes + n.workBytes)}), over the memory limit of ${formatBytes(limit)}${models}; ` +
    'use smaller sizes or batches, or raise --memory-limit';
  const error: ValidationIssue = {
    type: 'memory_budget_exceeded',
    message,
    details: message,
    extra_info: { input_name: n.largestInput?.name, estimate_bytes: est.peakBytes, node_bytes: n.outputBytes + n.workBytes, resident_model_bytes: resident, limit_bytes: limit },
  };
  const dependents = v.outputs.length > 0 ? [...v.outputs] : [];
  return { nodeId: n.id, error, nodeErrors: { [n.id]: { errors: [error], dependent_outputs: dependents, class_type: n.classType } } };
}

/** Estimated peak bytes of running `workflow` on `engine` (0 when it does not validate: it will not run). */
export async function estimateJobBytes(engine: Engine, workflow: unknown, targets?: readonly string[]): Promise<number> {
  const v = engine.validate(workflow, { targets: targets ? [...targets] : undefined });
  if (!v.ok) return 0;
  return (await engine.estimateMemory(workflow, v)).peakBytes;
}

/** Bytes jobs may use together now: the limit minus the models the pool holds (undefined: no limit). */
export function memoryAvailable(engine: Engine): number | undefined {
  const limit = engine.services.tryGet(MEMORY_LIMIT);
  if (limit === undefined) return undefined;
  return limit - (engine.services.tryGet(MODEL_POOL)?.stats().residentBytes ?? 0);
}
