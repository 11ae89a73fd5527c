import type { JsonValue } from '../../../engine/json.js';

function rec(v: JsonValue | undefined): Record<string, JsonValue> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
}

/** The server's 400 `node_errors` as problems by node and input (spec/api.md "Validation errors"). */
export function nodeErrorsToIssues(body: JsonValue | undefined): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const [id, entry] of Object.entries(rec(rec(body)?.node_errors) ?? {})) {
    const errors = rec(entry)?.errors;
    const issues: Record<string, string> = {};
    for (const err of Array.isArray(errors) ? errors : []) {
      const e = rec(err);
      if (!e) continue;
      const input = rec(e.extra_info)?.input_name;
      const text = [e.message, e.details].filter((s) => typeof s === 'string' && s !== '').join(': ');
      issues[typeof input === 'string' ? input : ''] = text || String(e.type ?? 'invalid');
    }
    out.set(id, issues);
  }
  return out;
}

/** The summary line of a refused prompt: `error.message: error.details`. */
export function serverMessage(body: JsonValue | undefined, fallback: string): string {
  const err = rec(rec(body)?.error);
  const parts = [err?.message, err?.details].filter((s) => typeof s === 'string' && s !== '');
  return parts.length ? parts.join(': ') : fallback;
}

