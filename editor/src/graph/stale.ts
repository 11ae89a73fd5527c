import { canonical } from '../../../engine/cache/canonical.js';
import { isLink, type ApiWorkflow } from '../../../engine/workflow.js';

/** The prompt of the last run that finished, and the ids of its nodes that ran or came from the cache. */
export interface LastRun {
  readonly prompt: ApiWorkflow;
  readonly ran: ReadonlySet<string>;
}

/**
 * Content keys of every node of a prompt, the server's cache key without the hash (engine/executor.ts:
 * type, constant inputs, upstream keys with slots; never node ids). Keys are interned to small numbers
 * in `table`, shared between prompts, so a key's text never nests its upstream texts. A node on a cycle
 * or linked to a missing node gets a key no other node has.
 */
function contentKeys(prompt: ApiWorkflow, table: Map<string, number>): Map<string, number> {
  const keys = new Map<string, number>();
  const visiting = new Set<string>();
  const unique = (): number => {
    const key = table.size;
    table.set(`\u0001${key}`, key);
    return key;
  };
  const keyOf = (id: string): number => {
    const known = keys.get(id);
    if (known !== undefined) return known;
    const node = prompt[id];
    if (!node || visiting.has(id)) return unique();
    visiting.add(id);
    let text = `${node.class_type}\0`;
    for (const name of Object.keys(node.inputs).sort()) {
      const v = node.inputs[name]!;
      text += isLink(v) ? `${name}<${keyOf(v[0])}#${v[1]}\0` : `${name}=${canonical(v)}\0`;
    }
    visiting.delete(id);
    let key = table.get(text);
    if (key === undefined) table.set(text, (key = table.size));
    keys.set(id, key);
    return key;
  };
  for (const id of Object.keys(prompt)) keyOf(id);
  return keys;
}

/**
 * Ids of the nodes of `current` that queuing it now would run again, judged against `last` by content
 * as the server's cache judges: a node is stale when no node that ran last time had the same type,
 * constant inputs and upstream content, or when anything upstream of it is stale. Renumbered nodes
 * are not stale. Without a last run nothing is marked (there is nothing to compare with).
 */
export function staleNodes(current: ApiWorkflow, last: LastRun | undefined): Set<string> {
  const stale = new Set<string>();
  if (!last) return stale;
  const table = new Map<string, number>();
  const before = contentKeys(last.prompt, table);
  const ranKeys = new Set<number>();
  for (const [id, key] of before) if (last.ran.has(id)) ranKeys.add(key);
  const now = contentKeys(current, table);
  const done = new Set<string>();
  const visit = (id: string): boolean => {
    const node = current[id];
    if (!node) return true;
    if (done.has(id)) return stale.has(id);
    done.add(id);
    let isStale = !ranKeys.has(now.get(id)!);
    for (const v of Object.values(node.inputs)) if (isLink(v) && visit(v[0])) isStale = true;
    if (isStale) stale.add(id);
    return isStale;
  };
  for (const id of Object.keys(current)) visit(id);
  return stale;
}
