import type { ResolvedNode } from '../validate/types.js';
import { linkDeps } from './demand.js';

/**
 * Runs the needed nodes as their inputs become ready, up to `concurrency` at once, in dependency
 * order (`order`) among the ready ones. The first failure aborts `inner` and stops new starts;
 * resolves once nothing is running. Returns the failure, if any.
 */
export async function runReadyQueue(opts: {
  order: readonly string[];
  needed: ReadonlySet<string>;
  nodes: ReadonlyMap<string, ResolvedNode>;
  concurrency: number;
  inner: AbortController;
  run: (id: string) => Promise<void>;
}): Promise<{ id: string; error: unknown } | undefined> {
  const { order, needed, nodes, inner } = opts;
  const waiting = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const id of needed) {
    const ups = new Set(linkDeps(nodes.get(id)!).filter((d) => needed.has(d)));
    waiting.set(id, ups.size);
    for (const u of ups) {
      let l = dependents.get(u);
      if (!l) dependents.set(u, (l = []));
      l.push(id);
    }
  }
  const ready = order.filter((id) => needed.has(id) && waiting.get(id) === 0);
  let readyHead = 0;
  let running = 0;
  let failure: { id: string; error: unknown } | undefined;
  await new Promise<void>((resolve) => {
    const pump = () => {
      if (failure || inner.signal.aborted) {
        if (running === 0) resolve();
        return;
      }
      if (readyHead === ready.length && running === 0) return resolve();
      while (readyHead < ready.length && running < opts.concurrency) {
        const id = ready[readyHead++]!;
        running++;
        opts.run(id).then(
          () => {
            running--;
            for (const d of dependents.get(id) ?? []) {
              const n = waiting.get(d)! - 1;
              waiting.set(d, n);
              if (n === 0) ready.push(d);
            }
            pump();
          },
          (error: unknown) => {
            running--;
            if (!failure) failure = { id, error };
            inner.abort(error);
            pump();
          },
        );
      }
    };
    pump();
  });
  return failure;
}
