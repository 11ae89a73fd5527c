/**
 * Serialized JSON of immutable values (a queued prompt's queue item, a finished job's history entry),
 * kept so that status routes do not parse and re-stringify every entry on every poll: at 64 history
 * entries per request that was most of GET /history's main-thread time while jobs ran (#22 item 8).
 * Least recently used entries go first once the texts exceed the byte budget.
 */
import { stringifyJson } from '../engine/index.js';

/** A route result that is already JSON text (sent as is). */
export class JsonText {
  constructor(readonly text: string) {}
}

/** NOTE: 64 MiB holds thousands of history entries with their prompts; beyond it the oldest are rebuilt on demand. */
export const DEFAULT_JSON_CACHE_BYTES = 64 * 1024 * 1024;

export class JsonTextCache {
  private readonly texts = new Map<string, string>();
  private bytes = 0;

  constructor(private readonly maxBytes = DEFAULT_JSON_CACHE_BYTES) {}

  /** The JSON text for `key`, made by `make` (undefined: nothing to cache, e.g. a row deleted meanwhile). */
  get(key: string, make: () => unknown): string | undefined {
    const hit = this.texts.get(key);
    if (hit !== undefined) {
      this.texts.delete(key);
      this.texts.set(key, hit);
      return hit;
    }
    const v = make();
    if (v === undefined) return undefined;
    const text = stringifyJson(v);
    this.texts.set(key, text);
    this.bytes += text.length;
    for (const [k, t] of this.texts) {
      if (this.bytes <= this.maxBytes) break;
      this.texts.delete(k);
      this.bytes -= t.length;
    }
    return text;
  }
}

/** `{"k": v, ...}` from keys and JSON texts. */
export function jsonObjectText(entries: Iterable<[string, string]>): string {
  const parts: string[] = [];
  for (const [k, text] of entries) parts.push(`${JSON.stringify(k)}:${text}`);
  return `{${parts.join(',')}}`;
}
