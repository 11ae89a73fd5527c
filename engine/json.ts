import { parse as losslessParse, stringify as losslessStringify, isSafeNumber } from 'lossless-json';
import { WorkflowParseError } from './errors.js';

/** JSON value with exact integers: those beyond 2^53 come back as bigint. */
export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | { [k: string]: JsonValue };

const INTEGER = /^-?\d+$/;

function parseNumber(text: string): number | bigint {
  if (INTEGER.test(text) && !isSafeNumber(text)) return BigInt(text);
  return Number(text);
}

/**
 * Parses JSON keeping integers above 2^53 exact (seeds up to 2^64 - 1), as ComfyUI's Python does.
 * Throws WorkflowParseError with the position on malformed text.
 */
export function parseJson(text: string): JsonValue {
  try {
    return losslessParse(text, null, parseNumber) as JsonValue;
  } catch (e) {
    throw new WorkflowParseError(`invalid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Serialises JSON with bigints written as exact integers. */
export function stringifyJson(value: unknown, indent?: number): string {
  const out = losslessStringify(value, (_k: string, v: unknown) => v, indent);
  return out ?? 'null';
}
