import type { JsonValue } from '../../../engine/json.js';
import type { NodeSpec } from './spec.js';
import type { LfNode, SeedControl } from './types.js';

function bound(v: unknown, fallback: bigint): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return BigInt(Math.trunc(v));
  return fallback;
}

function asBig(v: JsonValue): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return BigInt(Math.trunc(v));
  return 0n;
}

/** Integers beyond 2^53 stay bigint so they serialise exactly; others go back to number. */
function toJsonInt(v: bigint): JsonValue {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** A random integer in [lo, hi], at most 2^53 - 1 wide (as ComfyUI's frontend randomizes seeds). */
function randomIn(lo: bigint, hi: bigint, random: () => number): bigint {
  const span = hi - lo;
  const cap = BigInt(Number.MAX_SAFE_INTEGER);
  const width = span < cap ? span : cap;
  return lo + BigInt(Math.floor(random() * (Number(width) + 1)));
}

/** The next value of a seed under its control mode, clamped to the input's [min, max]. */
export function nextSeed(value: JsonValue, mode: SeedControl, options: Readonly<Record<string, unknown>>, random: () => number = Math.random): JsonValue {
  const lo = bound(options.min, 0n);
  const hi = bound(options.max, BigInt(Number.MAX_SAFE_INTEGER));
  const v = asBig(value);
  let next = v;
  if (mode === 'increment') next = v + 1n > hi ? lo : v + 1n;
  else if (mode === 'decrement') next = v - 1n < lo ? hi : v - 1n;
  else if (mode === 'randomize') next = randomIn(lo, hi, random);
  return toJsonInt(next);
}

/**
 * Applies "control after generate" to every controlled widget that is not fed by a link;
 * returns the nodes that changed (same objects for the others).
 */
export function applySeedControls(nodes: readonly LfNode[], specs: ReadonlyMap<string, NodeSpec>, linked: (nodeId: string, input: string) => boolean, random?: () => number): LfNode[] {
  return nodes.map((node) => {
    const spec = specs.get(node.data.classType);
    let values: Record<string, JsonValue> | undefined;
    for (const [name, mode] of Object.entries(node.data.controls)) {
      if (mode === 'fixed' || linked(node.id, name)) continue;
      const def = spec?.inputs.find((i) => i.name === name);
      if (!def) continue;
      values ??= { ...node.data.values };
      values[name] = nextSeed(node.data.values[name] ?? def.fallback, mode, def.options, random);
    }
    return values ? { ...node, data: { ...node.data, values } } : node;
  });
}
