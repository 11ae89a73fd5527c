import { createHash } from 'node:crypto';

/** JSON with sorted keys and exact integers, so equal workflows hash equally whatever their key order. */
export function canonicalJson(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  if (typeof v === 'string' || typeof v === 'boolean') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (typeof v === 'object') {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(String(v));
}

// NOTE: 16 hex digits (64 bits): a collision among a million jobs has odds of about 3e-8.
export const JOB_ID_LENGTH = 16;

/**
 * A job's id: the hash of its fully resolved workflow (base workflow, `--set` and the row's
 * overrides applied and type-normalised). Equal ids mean equal work, so re-runs find their jobs.
 */
export function jobId(resolvedWorkflow: unknown): string {
  return createHash('sha256').update(canonicalJson(resolvedWorkflow)).digest('hex').slice(0, JOB_ID_LENGTH);
}
