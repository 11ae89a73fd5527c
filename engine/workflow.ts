import type { JsonValue } from './json.js';

/** A link in API format: `[source node id, output slot]`. */
export type Link = [string, number];

/** One node of a ComfyUI API-format workflow. */
export interface ApiNode {
  class_type: string;
  inputs: Record<string, JsonValue>;
  _meta?: { title?: string };
}

/** ComfyUI's API format: node id -> node; the canonical executable form. */
export type ApiWorkflow = Record<string, ApiNode>;

/** True for `[string, int]`, ComfyUI's only link shape; literal pairs must be wrapped in `__value__`. */
export function isLink(v: unknown): v is Link {
  return Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'number' && Number.isInteger(v[1]);
}

/** Unwraps `{"__value__": [...]}`, ComfyUI's escape for literal lists. */
export function unwrapLiteral(v: JsonValue): JsonValue {
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && '__value__' in v && Object.keys(v).length === 1) {
    return v.__value__;
  }
  return v;
}
