import type { ApiWorkflow } from '../workflow.js';
import { isLink } from '../workflow.js';

export interface NodePlacement {
  readonly pos: [number, number];
  /** Column index: the longest chain of links from a node with no linked inputs. */
  readonly depth: number;
}

const COLUMN_WIDTH = 400;
const ROW_GAP = 40;

/**
 * Lays nodes out in columns by depth (longest-path layering, Sugiyama et al. 1981, first phase),
 * stacking each column top to bottom in id order. Cycles cannot push a node past column N.
 */
export function layoutColumns(api: ApiWorkflow, heightOf: (id: string) => number): Map<string, NodePlacement> {
  const ids = Object.keys(api);
  const depth = new Map(ids.map((id) => [id, 0]));
  // Bellman-Ford style relaxation: at most |V| rounds, so a cyclic graph still terminates.
  for (let round = 0; round < ids.length; round++) {
    let changed = false;
    for (const id of ids) {
      for (const v of Object.values(api[id]!.inputs)) {
        if (!isLink(v) || !depth.has(v[0])) continue;
        const want = Math.min(depth.get(v[0])! + 1, ids.length);
        if (want > depth.get(id)!) {
          depth.set(id, want);
          changed = true;
        }
      }
    }
    if (!changed) break;
  }
  const columnY = new Map<number, number>();
  const out = new Map<string, NodePlacement>();
  for (const id of ids) {
    const d = depth.get(id)!;
    const y = columnY.get(d) ?? 0;
    out.set(id, { pos: [d * COLUMN_WIDTH, y], depth: d });
    columnY.set(d, y + heightOf(id) + ROW_GAP);
  }
  return out;
}
