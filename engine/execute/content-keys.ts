import type { NodeDefinition } from '../define-node.js';
import type { Services } from '../services.js';
import type { ApiWorkflow } from '../workflow.js';
import type { ResolvedNode } from '../validate/types.js';
import { cacheKey, contentHash } from '../cache/cache-key.js';

/**
 * Content keys in dependency order. Fingerprints (ComfyUI IS_CHANGED) see the node's constants. Nodes
 * that read hidden inputs (SaveImage embeds the prompt) also key on them: two jobs that differ elsewhere
 * must not share one saved file, while an identical re-submission still hits the cache.
 */
export async function contentKeys(
  order: readonly string[],
  nodes: ReadonlyMap<string, ResolvedNode>,
  defs: ReadonlyMap<string, NodeDefinition>,
  hidden: { workflow: ApiWorkflow; extraPngInfo?: Record<string, unknown> },
  services: Services,
): Promise<Map<string, string>> {
  const keys = new Map<string, string>();
  let promptHash: string | undefined;
  let pngInfoHash: string | undefined;
  const hiddenKey = (def: NodeDefinition, id: string): string => {
    const parts: string[] = [];
    for (const kind of Object.values(def.hidden)) {
      if (kind === 'PROMPT') parts.push(`p:${(promptHash ??= contentHash(hidden.workflow))}`);
      else if (kind === 'EXTRA_PNGINFO') parts.push(`x:${(pngInfoHash ??= contentHash(hidden.extraPngInfo ?? null))}`);
      else parts.push(`u:${id}`);
    }
    return parts.join(',');
  };
  for (const id of order) {
    const node = nodes.get(id)!;
    const def = defs.get(id)!;
    let fp: string | undefined;
    if (def.fingerprint) {
      const constants: Record<string, unknown> = {};
      for (const [n, r] of Object.entries(node.inputs)) if (r.kind === 'const') constants[n] = r.value;
      try {
        fp = await def.fingerprint(constants, services);
      } catch (e) {
        fp = `error:${e instanceof Error ? e.message : String(e)}:${Date.now()}`;
      }
    }
    keys.set(id, cacheKey(def, node, (up) => keys.get(up)!, fp, hiddenKey(def, id)));
  }
  return keys;
}
