import { createHash } from 'node:crypto';
import type { ResolvedNode } from '../validate/types.js';
import type { NodeDefinition } from '../define-node.js';
import { canonical } from './canonical.js';

/** A short digest of any JSON-like value (bigints exact, keys sorted). */
export function contentHash(v: unknown): string {
  return createHash('sha256').update(canonical(v)).digest('base64url');
}

/**
 * A node's content key: its type and version, constant inputs, fingerprint, and the keys (and slots) of
 * what feeds it. Node ids are left out, so renumbered or different workflows share results.
 */
export function cacheKey(def: NodeDefinition, node: ResolvedNode, upstream: (id: string) => string, fingerprint: string | undefined, hidden: string): string {
  // One string, one hash update: hashing dominates the engine's per-node cost otherwise.
  let text = `${def.type}\0${def.version}\0`;
  for (const name of Object.keys(node.inputs).sort()) {
    const inp = node.inputs[name]!;
    text += inp.kind === 'const' ? `${name}=${canonical(inp.value)}\0` : `${name}<${upstream(inp.from)}#${inp.slot}\0`;
  }
  if (fingerprint !== undefined) text += `fp:${fingerprint}\0`;
  if (hidden) text += `hidden:${hidden}`;
  return createHash('sha256').update(text).digest('base64url');
}
