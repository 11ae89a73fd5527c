/**
 * The batching point of one loaded U-Net: every U-Net call of every job goes through `submit`.
 * Requests that wait here together and share a merge key are concatenated along the batch axis into one
 * call with one timestep per row (StreamDiffusion's stream batch, Kodaira et al. 2023), and the output
 * rows are scattered back. The order and the row cap come from the job's StepScheduler; a short bounded
 * wait lets the other running jobs' next steps arrive. Models that cannot take per-row timesteps get one
 * request per call (see batching/capability.ts).
 * In an inference worker, conditioning kept there (`keep`) travels as a handle, and merged calls name
 * the rows they need (RowStack) instead of copying them here.
 * The same batching point serves other per-row models called like a U-Net (a ControlNet: `submitAll`
 * with the output names given at construction), every output scattered by rows.
 */
import { ResidentTensor, RowStack } from '../resident.js';
import type { SessionFeeds } from '../send-feeds.js';
import type { StackingSession } from '../session-client.js';
import { Tensor } from '../tensor.js';
import { batchCapability, type BatchCapability } from './capability.js';
import { concatRows, type RowRange } from './rows.js';
import { DEFAULT_MAX_BATCH, scheduleOrder, type JobLane, type SchedulerOptions } from './step-scheduler.js';
import type { DiffusionSession, SessionHandle } from '../session-handle.js';
import { hasInput } from '../session-handle.js';

export interface UNetRequest {
  /** Scaled model input rows (x * c_in) [N,C,h,w]. */
  readonly sample: Tensor;
  /** One (possibly fractional) model timestep per row. */
  readonly timesteps: Float64Array;
  /** Text conditioning rows [N,seq,dim]. */
  readonly encoderHiddenStates: Tensor;
  /** Further per-row inputs the U-Net declares (LCM `timestep_cond` [N,256], ...). */
  readonly extra?: Readonly<Record<string, Tensor>>;
  /**
   * Extra inputs whose buffers the caller hands over (made for this request alone, such as ControlNet
   * residuals): a call of this request alone transfers them to the worker instead of copying them.
   */
  readonly handOver?: readonly string[];
  readonly signal?: AbortSignal;
  /** The job's scheduler lane: its requests are served in order, interleaved with other jobs' lanes. */
  readonly lane?: JobLane;
}

/** Thrown when a request's rows do not agree with each other or the U-Net returns another shape. */
export class UNetRequestError extends Error {
  override readonly name = 'UNetRequestError';
}

/** Thrown to a request whose signal fired without a reason. */
export class UNetAbortedError extends Error {
  override readonly name = 'AbortError';
}

/** Requests with equal keys can share one U-Net call (rows concatenated along the batch axis). */
export function mergeKey(r: UNetRequest): string {
  const extra = Object.entries(r.extra ?? {})
    .map(([k, t]) => `${k}:${t.dtype}[${t.shape.slice(1).join(',')}]`)
    .sort()
    .join(';');
  return `${r.sample.dtype}[${r.sample.shape.slice(1).join(',')}]|${r.encoderHiddenStates.dtype}[${r.encoderHiddenStates.shape.slice(1).join(',')}]|${extra}`;
}

function checkRows(r: UNetRequest): number {
  const n = r.sample.shape[0];
  const bad: string[] = [];
  if (r.timesteps.length !== n) bad.push(`${r.timesteps.length} timesteps`);
  if (r.encoderHiddenStates.shape[0] !== n) bad.push(`encoder_hidden_states ${r.encoderHiddenStates.describe()}`);
  for (const [k, t] of Object.entries(r.extra ?? {})) if (t.shape[0] !== n) bad.push(`${k} ${t.describe()}`);
  if (bad.length > 0) throw new UNetRequestError(`sample ${r.sample.describe()} has ${n} rows but got ${bad.join(', ')}`);
  return n;
}

interface Item {
  readonly request: UNetRequest;
  readonly lane?: JobLane;
  readonly seq: number;
  readonly rows: number;
  readonly key: string;
  /** Rows handed to a call so far. */
  sent: number;
  /** Rows whose output has arrived. */
  received: number;
  /** Output rows by output key, filled as calls return. */
  outs?: Map<string, { data: Float32Array; rowShape: readonly number[] }>;
  settled: boolean;
  resolve(t: Readonly<Record<string, Tensor>>): void;
  reject(e: unknown): void;
  onAbort?: () => void;
}

/** Rows `[from, to)` of one request inside a call. */
interface Segment {
  readonly item: Item;
  readonly from: number;
  readonly to: number;
}

interface Call {
  readonly segments: readonly Segment[];
  /** Repeated last rows filling a fixed batch. */
  readonly pad: number;
}

/** Counters for tests and benchmarks. */
export interface UNetQueueStats {
  /** U-Net calls made. */
  readonly calls: number;
  /** Request rows served (padding excluded). */
  readonly rows: number;
  /** Calls that carried rows of more than one request. */
  readonly merged: number;
}

export class UNetQueue {
  private pending: Item[] = [];
  private draining = false;
  private seq = 0;
  /** Jobs served by the previous call: the next call waits (briefly) for their next step. */
  private expected = new Set<JobLane>();
  private wakeCollector: (() => void) | undefined;
  private counts = { calls: 0, rows: 0, merged: 0 };

  /**
   * `defaults` apply to requests made outside a scheduled job (no bounded wait unless given). `outputs`:
   * one alias group per output (results keyed by each group's first name), a U-Net's by default, or
   * 'all' for every output under its own name (a ControlNet's residuals).
   */
  constructor(
    readonly session: SessionHandle,
    private readonly defaults: SchedulerOptions = {},
    private readonly outputs: readonly (readonly string[])[] | 'all' = UNET_OUTPUTS,
  ) {}

  /** U-Net calls made (tests and benchmarks read it). */
  get calls(): number {
    return this.counts.calls;
  }

  stats(): UNetQueueStats {
    return { ...this.counts };
  }

  /** Queues one U-Net evaluation; resolves with the model output rows [N,C,h,w] (the first output). */
  async submit(request: UNetRequest): Promise<Tensor> {
    const all = await this.submitAll(request);
    return all[this.outputs === 'all' ? Object.keys(all)[0]! : this.outputs[0]![0]!]!;
  }

  /** Queues one evaluation; resolves with every output's rows for this request, keyed by output group. */
  submitAll(request: UNetRequest): Promise<Readonly<Record<string, Tensor>>> {
    const rows = checkRows(request);
    const { signal } = request;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise<Readonly<Record<string, Tensor>>>((resolve, reject) => {
      const item: Item = { request, lane: request.lane, seq: this.seq++, rows, key: mergeKey(request), sent: 0, received: 0, settled: false, resolve, reject };
      if (signal) {
        item.onAbort = () => this.abandon(item, abortReason(signal));
        signal.addEventListener('abort', item.onAbort, { once: true });
      }
      this.pending.push(item);
      this.wakeCollector?.();
      if (!this.draining) void this.drain();
    });
  }

  /**
   * Keeps a tensor (a sampling run's stacked conditioning) in the U-Net's worker, so each call sends its
   * handle; where the session cannot keep tensors the tensor itself is returned. Pair with `release`.
   */
  async keep(t: Tensor): Promise<Tensor> {
    const session = await this.session.get();
    return stacking(session) ? session.keep(t) : t;
  }

  /** Frees what `keep` kept (a no-op for plain tensors). */
  async release(t: Tensor): Promise<void> {
    if (t instanceof ResidentTensor) await t.release();
  }

  /** Whether the U-Net declares an input (so callers only build the extras it takes). */
  async declares(name: string): Promise<boolean> {
    return hasInput(await this.session.get(), name);
  }

  /** Declared shape of an input, for sizing extras such as `timestep_cond`. */
  async inputShape(name: string): Promise<readonly (number | string)[] | undefined> {
    return (await this.session.get()).inputs.find((m) => m.name === name)?.shape;
  }

  private settle(item: Item, outcome: { value: Readonly<Record<string, Tensor>> } | { error: unknown }): void {
    if (item.settled) return;
    item.settled = true;
    if (item.onAbort) item.request.signal?.removeEventListener('abort', item.onAbort);
    if ('value' in outcome) item.resolve(outcome.value);
    else item.reject(outcome.error);
  }

  /** An interrupted job leaves: its waiting rows are dropped, rows in flight are discarded on return. */
  private abandon(item: Item, reason: unknown): void {
    this.pending = this.pending.filter((i) => i !== item);
    this.settle(item, { error: reason });
    this.wakeCollector?.();
  }

  private policy(head: Item): { maxBatch: number; maxWaitMs: number } {
    const s = head.lane?.scheduler;
    return {
      maxBatch: s?.maxBatch ?? this.defaults.maxBatch ?? DEFAULT_MAX_BATCH,
      maxWaitMs: s?.maxWaitMs ?? this.defaults.maxWaitMs ?? 0,
    };
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.pending.length > 0) {
        const session = await this.session.get();
        const cap = batchCapability(session.inputs);
        if (cap.perRowTimesteps) await this.collect();
        const call = this.nextCall(cap);
        if (!call) continue;
        await this.run(call, session);
      }
    } catch (e) {
      // Opening the session failed: every waiting request learns why.
      for (const item of this.pending.splice(0)) this.settle(item, { error: e });
    } finally {
      this.draining = false;
    }
  }

  /**
   * Lets the requests of jobs resumed by the previous call arrive: one event-loop turn (jobs resume in
   * microtasks), then up to maxWaitMs for jobs of that call that have not come back yet.
   */
  private async collect(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (this.pending.length === 0) return;
    const { maxBatch, maxWaitMs } = this.policy(this.pending[0]);
    if (maxWaitMs <= 0) return;
    const deadline = performance.now() + maxWaitMs;
    const missing = () => {
      const here = new Set(this.pending.map((i) => i.lane));
      let rows = 0;
      for (const i of this.pending) rows += i.rows - i.sent;
      return rows < maxBatch && [...this.expected].some((l) => !l.closed && !here.has(l));
    };
    while (this.pending.length > 0 && missing()) {
      const left = deadline - performance.now();
      if (left <= 0) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wakeCollector = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeCollector = undefined;
    }
  }

  /** Picks the next call: the first request in schedule order, plus whole requests of the same key that fit. */
  private nextCall(cap: BatchCapability): Call | undefined {
    if (this.pending.length === 0) return undefined;
    this.pending.sort(scheduleOrder);
    const head = this.pending[0];
    const capacity = cap.fixedBatch ?? (cap.perRowTimesteps ? this.policy(head).maxBatch : Infinity);
    const segments: Segment[] = [{ item: head, from: head.sent, to: Math.min(head.rows, head.sent + capacity) }];
    let rows = segments[0].to - segments[0].from;
    if (cap.perRowTimesteps) {
      for (const it of this.pending.slice(1)) {
        if (rows >= capacity) break;
        if (it.key !== head.key || it.sent > 0 || rows + it.rows > capacity) continue;
        segments.push({ item: it, from: 0, to: it.rows });
        rows += it.rows;
      }
    }
    for (const s of segments) s.item.sent = s.to;
    this.pending = this.pending.filter((i) => i.sent < i.rows);
    return { segments, pad: cap.fixedBatch !== undefined ? cap.fixedBatch - rows : 0 };
  }

  private async run(call: Call, session: DiffusionSession): Promise<void> {
    const { segments, pad } = call;
    const live = segments.filter((s) => !s.item.settled);
    if (live.length === 0) return;
    const ranges = (pick: (r: UNetRequest) => Tensor): RowRange[] => live.map((s) => ({ tensor: pick(s.item.request), from: s.from, to: s.to }));
    const timesteps: number[] = [];
    for (const s of live) for (let r = s.from; r < s.to; r++) timesteps.push(s.item.request.timesteps[r]);
    for (let i = 0; i < pad; i++) timesteps.push(timesteps[timesteps.length - 1]);
    const head = live[0].item.request;
    const stacks = stacking(session);
    // Conditioning rows are named (RowStack) in a worker session and only copied for other sessions.
    const rowsOf = (pick: (r: UNetRequest) => Tensor): Tensor | RowStack => (stacks ? stackRows(ranges(pick), pad) : concatRows(ranges(pick), pad));
    // The sample and timesteps are built here for this call alone, so their buffers are handed over.
    const merged = concatRows(ranges((r) => r.sample), pad);
    const sample = merged === head.sample ? new Tensor('float32', merged.data.slice(), merged.shape) : merged;
    const feeds: Record<string, Tensor | RowStack> = {
      sample,
      timestep: new Tensor('float32', Float32Array.from(timesteps), [timesteps.length]),
      encoder_hidden_states: rowsOf((r) => r.encoderHiddenStates),
    };
    for (const name of Object.keys(head.extra ?? {})) {
      feeds[name] = rowsOf((r) => r.extra?.[name] ?? missingExtra(name));
    }
    // Handed-over extras travel as transferred buffers when this request has the call to itself.
    const moved = live.length === 1 && pad === 0 ? (head.handOver ?? []).filter((n) => feeds[n] === head.extra?.[n]) : [];
    const sampleSize = sample.size;
    const sampleShape = sample.describe();
    const rows = timesteps.length - pad;
    this.counts.calls++;
    this.counts.rows += rows;
    if (live.length > 1) this.counts.merged++;
    const lanes = new Set<JobLane>();
    for (const s of live) if (s.item.lane) lanes.add(s.item.lane);
    try {
      const out = await callUNet(session, feeds, this.outputs === 'all' ? undefined : this.outputs, moved);
      const results = new Map<string, Float32Array>();
      const rowShapes = new Map<string, readonly number[]>();
      const keys = this.outputs === 'all' ? Object.keys(out) : this.outputs.map((g) => g[0]!);
      for (const key of keys) {
        const t = out[key];
        const single = this.outputs === UNET_OUTPUTS;
        const fits = t !== undefined && t.dtype === 'float32' && (single ? t.size === sampleSize : t.shape[0] === timesteps.length);
        if (!fits) throw new UNetRequestError(`the ${single ? 'U-Net' : 'model'} returned ${t ? t.describe() : 'nothing'}${single ? '' : ` as '${key}'`} for sample ${sampleShape}`);
        results.set(key, t.data as Float32Array);
        rowShapes.set(key, single ? sample.shape.slice(1) : t.shape.slice(1));
      }
      this.scatter(live, results, rowShapes, timesteps.length);
    } catch (e) {
      for (const s of live) {
        this.pending = this.pending.filter((i) => i !== s.item);
        this.settle(s.item, { error: e });
      }
    } finally {
      for (const l of lanes) l.scheduler.served([l]);
      this.expected = new Set([...lanes].filter((l) => !l.closed));
    }
  }

  /** Hands each request its rows of every output (`callRows` rows per output, padding included). */
  private scatter(segments: readonly Segment[], results: ReadonlyMap<string, Float32Array>, rowShapes: ReadonlyMap<string, readonly number[]>, callRows: number): void {
    let at = 0;
    for (const { item, from, to } of segments) {
      const n = to - from;
      if (!item.settled) {
        const whole = from === 0 && to === item.rows;
        item.outs ??= new Map();
        for (const [key, data] of results) {
          const size = data.length / callRows;
          const rowShape = rowShapes.get(key)!;
          // A request served whole by an unpadded call of its own takes the output buffer as is.
          const own = whole && segments.length === 1 && callRows === item.rows;
          const rows = own ? data : data.subarray(at * size, (at + n) * size);
          if (whole) item.outs.set(key, { data: own ? data : rows.slice(), rowShape });
          else {
            let slot = item.outs.get(key);
            if (!slot) item.outs.set(key, (slot = { data: new Float32Array(item.rows * size), rowShape }));
            slot.data.set(rows, from * size);
          }
        }
        item.received += n;
        if (item.received === item.rows) {
          const value: Record<string, Tensor> = {};
          for (const [key, o] of item.outs) value[key] = new Tensor('float32', o.data, [item.rows, ...o.rowShape]);
          this.settle(item, { value });
        }
      }
      at += n;
    }
  }
}

type WorkerSession = DiffusionSession & Pick<StackingSession, 'run' | 'keep'>;

/** Sessions in inference workers keep tensors and take row stacks (runtime/resident.ts). */
function stacking(s: DiffusionSession): s is WorkerSession {
  return 'keep' in s && typeof s.keep === 'function';
}

/** A U-Net's one output, under the names exporters give it. */
const UNET_OUTPUTS: readonly (readonly string[])[] = [['out_sample', 'latent']];

function callUNet(session: DiffusionSession, feeds: Record<string, Tensor | RowStack>, outputs: readonly (readonly string[])[] | undefined, moved: readonly string[]) {
  if (stacking(session)) return session.run(feeds satisfies SessionFeeds, { outputs, transferInputs: ['sample', 'timestep', ...moved] });
  const plain: Record<string, Tensor> = {};
  for (const [name, f] of Object.entries(feeds)) {
    if (f instanceof RowStack) throw new UNetRequestError(`feed '${name}' is a row stack, which only worker sessions take`);
    plain[name] = f;
  }
  return session.run(plain, { outputs });
}

/** The rows of a call as a RowStack (a single whole tensor as itself); padding repeats the last row. */
function stackRows(parts: readonly RowRange[], pad: number): Tensor | RowStack {
  const only = parts.length === 1 ? parts[0] : undefined;
  if (only && pad === 0 && only.from === 0 && only.to === only.tensor.shape[0]) return only.tensor;
  const last = parts[parts.length - 1];
  const padding = Array.from({ length: pad }, () => ({ tensor: last.tensor, from: last.to - 1, to: last.to }));
  return new RowStack([...parts, ...padding]);
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new UNetAbortedError('the U-Net request was aborted');
}

function missingExtra(name: string): never {
  throw new UNetRequestError(`a merged request lacks the extra input '${name}'`);
}
