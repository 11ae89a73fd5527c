import { stubEngine } from '../test/fixtures/stub-nodes.js';
import { Add } from '../test/fixtures/stub-nodes.js';

/** A 1000-node stub graph: a wide, layered DAG of additions feeding one output. */
function graph(n: number, salt: number): Record<string, unknown> {
  const wf: Record<string, unknown> = {};
  const width = 20;
  for (let i = 0; i < n - 1; i++) {
    if (i < width) wf[`n${i}`] = { class_type: 'StubConst', inputs: { value: (i + salt) % 1000 } };
    else wf[`n${i}`] = { class_type: 'StubAdd', inputs: { a: [`n${i - width}`, 0], b: [`n${i - width + 1 - (i % width === width - 1 ? width : 0)}`, 0] } };
  }
  wf.out = { class_type: 'StubSink', inputs: { value: [`n${n - 2}`, 0] } };
  return wf;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export default async function (): Promise<void> {
  const n = 1000;
  const engine = stubEngine();
  // Warm up JIT.
  for (let i = 0; i < 5; i++) await engine.run(graph(n, 1000 + i));

  const validateMs: number[] = [];
  const runMs: number[] = [];
  let executed = 0;
  for (let i = 0; i < 15; i++) {
    const wf = graph(n, i);
    let t = performance.now();
    const v = engine.validate(wf);
    validateMs.push(performance.now() - t);
    t = performance.now();
    const r = await engine.runValidated(wf, v, {});
    runMs.push(performance.now() - t);
    if (r.status !== 'success') throw new Error(`unexpected result ${r.status}`);
    executed = r.executed.length;
  }
  // The node work itself: the same number of direct `run` calls.
  const ctx = undefined as never;
  let t = performance.now();
  for (let k = 0; k < 15; k++) for (let i = 0; i < executed; i++) await Add.run(ctx, { a: i, b: k });
  const nodeWorkMs = (performance.now() - t) / 15;

  const perNodeUs = ((median(runMs) - nodeWorkMs) / executed) * 1000;
  console.log(`graph: ${n} nodes, ${executed} of them upstream of the output and executed; 15 runs, medians`);
  console.log(`validation + planning: ${median(validateMs).toFixed(2)} ms for ${n} nodes (target <= 50 ms)`);
  console.log(`execution: ${median(runMs).toFixed(2)} ms; node work ${nodeWorkMs.toFixed(2)} ms`);
  console.log(`engine overhead per node: ${perNodeUs.toFixed(1)} us (target <= 50 us)`);
  t = performance.now();
  const cachedRun = await engine.run(graph(n, 14));
  console.log(`fully cached re-run: ${(performance.now() - t).toFixed(2)} ms (${cachedRun.executed.length} nodes executed)`);
}
