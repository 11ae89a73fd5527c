/**
 * Which nodes of a model run on which execution provider. onnxruntime assigns every node it can to the
 * requested provider and the rest to its CPU provider; it tells only in its verbose log, at session
 * creation, on the process's stderr. So a child process creates the session and this reads its log.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { ModelLoadError } from './errors.js';
import type { Device } from './devices.js';

export interface PlacedNode {
  op: string;
  name: string;
}

/** Nodes by provider name as onnxruntime spells it (CPUExecutionProvider, WebGpuExecutionProvider, ...). */
export type Placements = Map<string, PlacedNode[] | { count: number }>;

const GROUP = /(All nodes|Node\(s\)) placed on \[(\w+)\]\. Number of nodes: (\d+)/;
const NODE = /VerifyEachNodeIsAssignedToAnEp\]\s{3,}(\S+) \((.*)\)\s*$/;

/** Reads the "Node placements" block of onnxruntime's verbose log (session_state.cc VerifyEachNodeIsAssignedToAnEp). */
export function parsePlacementLog(log: string): Placements {
  const out: Placements = new Map();
  let current: PlacedNode[] | undefined;
  for (const line of log.split('\n')) {
    const g = GROUP.exec(line);
    if (g) {
      // "All nodes placed on" lists no nodes, only the count.
      if (g[1] === 'All nodes') {
        out.set(g[2], { count: Number(g[3]) });
        current = undefined;
      } else {
        current = [];
        out.set(g[2], current);
      }
      continue;
    }
    const n = current ? NODE.exec(line) : null;
    if (n && current) current.push({ op: n[1], name: n[2] });
    else if (!line.includes('VerifyEachNodeIsAssignedToAnEp')) current = undefined;
  }
  return out;
}

/** tsx's loader (its main export), for a child that runs the TypeScript sources. */
function tsxImportUrl(): string {
  return pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
}

/** Node placements of `modelPath` on `device`, from a child process's onnxruntime log. */
export async function nodePlacements(modelPath: string, device: Device): Promise<Placements> {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = fileURLToPath(new URL(fromSource ? './placement-child.ts' : './placement-child.js', import.meta.url));
  const args = [...(fromSource ? ['--import', tsxImportUrl()] : []), entry, path.resolve(modelPath), JSON.stringify(device)];
  const run = promisify(execFile);
  try {
    const { stderr } = await run(process.execPath, args, { maxBuffer: 256 * 1024 * 1024, timeout: 600_000 });
    return parsePlacementLog(stderr);
  } catch (e) {
    const out = typeof e === 'object' && e !== null && 'stdout' in e ? String(e.stdout) : '';
    throw new ModelLoadError(`cannot place the nodes of ${modelPath}: ${out || (e instanceof Error ? e.message : String(e))}`);
  }
}

/** The nodes that run on the CPU although `device` was asked for: one line per op type with names. */
export function cpuFallbackSummary(p: Placements): string | undefined {
  const cpu = p.get('CPUExecutionProvider');
  if (!cpu) return undefined;
  // The copies onnxruntime inserts between host and device are bookkeeping, not the model's nodes.
  const own = (v: PlacedNode[] | { count: number }): number => (Array.isArray(v) ? v.filter((n) => !n.op.startsWith('Memcpy')).length : v.count);
  const total = [...p.values()].reduce((n, v) => n + own(v), 0);
  const nodes = Array.isArray(cpu) ? cpu : [];
  const count = own(cpu);
  const byOp = new Map<string, string[]>();
  for (const n of nodes) byOp.set(n.op, [...(byOp.get(n.op) ?? []), n.name]);
  const ops = [...byOp].map(([op, names]) => `${op} x${names.length} (${names.slice(0, 3).join(', ')}${names.length > 3 ? ', ...' : ''})`);
  return `${count} of ${total} nodes run on the CPU${ops.length ? `: ${ops.join('; ')}` : ''}`;
}
