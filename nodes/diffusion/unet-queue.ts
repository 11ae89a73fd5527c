/**
 * The batching point of one loaded U-Net: every U-Net call of every job goes through `submit`.
 * Requests are served one at a time for now; each carries a merge key so that a later scheduler can
 * concatenate compatible requests (same spatial size, text length and extra inputs) into one call,
 * which is why timesteps are given per row.
 */
import { Tensor } from '../runtime/tensor.js';
import type { SessionHandle } from './sessions.js';
import { hasInput } from './sessions.js';

export interface UNetRequest {
  /** Scaled model input rows (x * c_in) [N,C,h,w]. */
  readonly sample: Tensor;
  /** One (possibly fractional) model timestep per row. */
  readonly timesteps: Float64Array;
  /** Text conditioning rows [N,seq,dim]. */
  readonly encoderHiddenStates: Tensor;
  /** Further per-row inputs the U-Net declares (LCM `timestep_cond` [N,256], ...). */
  readonly extra?: Readonly<Record<string, Tensor>>;
  readonly signal?: AbortSignal;
}

/** Thrown when a request's rows do not agree with each other or the U-Net returns another shape. */
export class UNetRequestError extends Error {
  override readonly name = 'UNetRequestError';
}

/** Requests with equal keys can share one U-Net call (rows concatenated along the batch axis). */
export function mergeKey(r: UNetRequest): string {
  const extra = Object.entries(r.extra ?? {})
    .map(([k, t]) => `${k}[${t.shape.slice(1).join(',')}]`)
    .sort()
    .join(';');
  return `${r.sample.shape.slice(1).join(',')}|${r.encoderHiddenStates.shape.slice(1).join(',')}|${extra}`;
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

interface Queued {
  readonly request: UNetRequest;
  resolve(t: Tensor): void;
  reject(e: unknown): void;
}

export class UNetQueue {
  private readonly pending: Queued[] = [];
  private draining = false;
  /** U-Net calls made (tests and benchmarks read it). */
  calls = 0;

  constructor(readonly session: SessionHandle) {}

  /** Queues one U-Net evaluation; resolves with the model output rows [N,C,h,w]. */
  submit(request: UNetRequest): Promise<Tensor> {
    checkRows(request);
    return new Promise<Tensor>((resolve, reject) => {
      this.pending.push({ request, resolve, reject });
      if (!this.draining) void this.drain();
    });
  }

  /** Whether the U-Net declares an input (so callers only build the extras it takes). */
  async declares(name: string): Promise<boolean> {
    return hasInput(await this.session.get(), name);
  }

  /** Declared shape of an input, for sizing extras such as `timestep_cond`. */
  async inputShape(name: string): Promise<readonly (number | string)[] | undefined> {
    return (await this.session.get()).inputs.find((m) => m.name === name)?.shape;
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      for (let next = this.pending.shift(); next; next = this.pending.shift()) {
        try {
          next.resolve(await this.call(next.request));
        } catch (e) {
          next.reject(e);
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private async call(r: UNetRequest): Promise<Tensor> {
    r.signal?.throwIfAborted();
    const s = await this.session.get();
    const feeds: Record<string, Tensor<'float32'>> = {
      sample: r.sample,
      timestep: new Tensor('float32', Float32Array.from(r.timesteps), [r.timesteps.length]),
      encoder_hidden_states: r.encoderHiddenStates,
      ...r.extra,
    };
    this.calls++;
    const out = await s.run(feeds, { outputs: [['out_sample', 'latent']], signal: r.signal });
    const t = out.out_sample;
    if (t === undefined || t.dtype !== 'float32' || t.size !== r.sample.size) {
      throw new UNetRequestError(`the U-Net returned ${t ? t.describe() : 'nothing'} for sample ${r.sample.describe()}`);
    }
    return new Tensor('float32', t.data, r.sample.shape);
  }
}
