import type { ObjectInfoEntry } from '../object-info.js';
import type { ApiWorkflow } from '../workflow.js';
import { UnknownNodeTypesError, type MissingNodeType } from './format-errors.js';

/** True when `info` describes `type` as its own key (never through the prototype chain). */
export function hasNodeType(info: Record<string, ObjectInfoEntry>, type: string): boolean {
  return Object.hasOwn(info, type);
}

/** Throws UnknownNodeTypesError naming every type of `uses` ([node id, type]) that `info` lacks. */
export function assertKnownTypes(uses: Iterable<readonly [string, string]>, info: Record<string, ObjectInfoEntry>): void {
  const missing = new Map<string, string[]>();
  for (const [id, type] of uses) {
    if (hasNodeType(info, type)) continue;
    const ids = missing.get(type) ?? [];
    ids.push(id);
    missing.set(type, ids);
  }
  if (missing.size === 0) return;
  const list: MissingNodeType[] = [...missing].map(([type, nodeIds]) => ({ type, nodeIds }));
  throw new UnknownNodeTypesError(list);
}

/** The API-format counterpart: every `class_type` must be described by the object_info. */
export function assertApiNodeTypes(api: ApiWorkflow, info: Record<string, ObjectInfoEntry>): void {
  assertKnownTypes(Object.entries(api).map(([id, node]) => [id, node.class_type] as const), info);
}

/** Sets an own enumerable property, safe for keys such as `__proto__` that plain assignment mishandles. */
export function setOwn<V>(obj: Record<string, V>, key: string, value: V): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}
