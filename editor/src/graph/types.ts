import type { Edge, Node } from '@xyflow/react';
import type { JsonValue } from '../../../engine/json.js';

export const SEED_CONTROLS = ['fixed', 'increment', 'decrement', 'randomize'] as const;
export type SeedControl = (typeof SEED_CONTROLS)[number];

export function isSeedControl(v: unknown): v is SeedControl {
  return typeof v === 'string' && (SEED_CONTROLS as readonly string[]).includes(v);
}

/** What the editor keeps per node; execution state lives in the exec store, not here. */
export type LfNodeData = {
  classType: string;
  title?: string;
  /** Widget values by input name (kept while a link overrides them, as ComfyUI does). */
  values: Record<string, JsonValue>;
  controls: Record<string, SeedControl>;
};

export type LfNode = Node<LfNodeData, 'lf'>;
export type LfEdge = Edge<{ type: string }>;

export interface Graph {
  readonly nodes: readonly LfNode[];
  readonly edges: readonly LfEdge[];
}

const IN = 'in:';
const OUT = 'out:';

export function inHandle(name: string): string {
  return IN + name;
}

export function outHandle(slot: number): string {
  return OUT + slot;
}

export function inputNameOf(handle: string | null | undefined): string | undefined {
  return handle?.startsWith(IN) ? handle.slice(IN.length) : undefined;
}

export function outputSlotOf(handle: string | null | undefined): number | undefined {
  if (!handle?.startsWith(OUT)) return undefined;
  const n = Number(handle.slice(OUT.length));
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

export function edgeId(source: string, slot: number, target: string, input: string): string {
  return `e${source}:${slot}-${target}:${input}`;
}

/** Next free numeric id, as ComfyUI numbers nodes. */
export function nextNodeId(nodes: readonly { id: string }[]): string {
  let max = 0;
  for (const n of nodes) {
    const v = Number(n.id);
    if (Number.isFinite(v) && v > max) max = v;
  }
  return String(Math.floor(max) + 1);
}
