/**
 * Main-thread side of resident tensors: a tensor that an inference worker also holds, so a run on a
 * session in that worker sends its handle instead of its data (a sampling run's text conditioning is
 * 236 KB per row and unchanged over every step). `RowStack` describes a feed built from row ranges of
 * tensors, concatenated along the batch axis inside the worker, so merging the rows of several
 * requests copies no resident rows on the main thread.
 */
import { ResidentTensorError } from './errors.js';
import type { DType } from './tensor.js';
import { Tensor, sizeOf } from './tensor.js';
import type { WirePart, WireRows, WireTensor } from './wire.js';

/** The worker a resident tensor lives in; `generation` changes when that worker dies. */
export interface ResidentHost {
  readonly generation: number;
  drop(handles: number[]): Promise<void>;
}

interface Held {
  readonly host: ResidentHost;
  readonly generation: number;
  readonly handle: number;
}

// A resident tensor dropped without release() (a caller that forgot) frees its worker copy when collected.
const forgotten = new FinalizationRegistry<Held>((h) => {
  if (h.host.generation === h.generation) h.host.drop([h.handle]).catch(() => undefined);
});

/**
 * A tensor also held by a worker. It stays a plain tensor on this thread: where its worker lost it
 * (crash, another worker hosts the session, released) its data is sent as usual. Like every Tensor it is
 * immutable: writing into `data` after `keep` would make the two copies disagree.
 */
export class ResidentTensor<D extends DType = 'float32'> extends Tensor<D> {
  private readonly held: Held;
  private dropped = false;

  /** @internal Made by `RemoteSession.keep`. */
  constructor(t: Tensor<D>, host: ResidentHost, generation: number, handle: number) {
    super(t.dtype, t.data, t.shape);
    this.held = { host, generation, handle };
    forgotten.register(this, this.held, this);
  }

  get handle(): number {
    return this.held.handle;
  }

  get released(): boolean {
    return this.dropped;
  }

  /** Whether `host` still holds this tensor. */
  heldBy(host: ResidentHost): boolean {
    return !this.dropped && this.held.host === host && host.generation === this.held.generation;
  }

  /** Frees the worker's copy; later runs send the data inline. Idempotent. */
  async release(): Promise<void> {
    if (this.dropped) return;
    this.dropped = true;
    forgotten.unregister(this);
    const { host, generation, handle } = this.held;
    if (host.generation === generation) await host.drop([handle]);
  }
}

/** Rows `[from, to)` of a tensor. */
export interface StackPart {
  readonly tensor: Tensor<DType>;
  readonly from: number;
  readonly to: number;
}

/** A feed made of row ranges concatenated along the batch axis, assembled inside the worker. */
export class RowStack {
  readonly dtype: DType;
  readonly shape: readonly number[];

  constructor(readonly parts: readonly StackPart[]) {
    if (parts.length === 0) throw new ResidentTensorError('a row stack needs at least one part');
    const first = parts[0].tensor;
    const rowShape = first.shape.slice(1);
    let rows = 0;
    for (const { tensor: t, from, to } of parts) {
      if (t.dtype !== first.dtype || t.shape.length !== first.shape.length || t.shape.some((d, i) => i > 0 && d !== first.shape[i])) {
        throw new ResidentTensorError(`cannot stack rows of ${t.describe()} onto ${first.describe()}`);
      }
      if (!(Number.isInteger(from) && Number.isInteger(to) && from >= 0 && from < to && to <= t.shape[0])) {
        throw new ResidentTensorError(`rows [${from}, ${to}) are outside ${t.describe()}`);
      }
      rows += to - from;
    }
    this.dtype = first.dtype;
    this.shape = Object.freeze([rows, ...rowShape]);
  }

  describe(): string {
    return `${this.dtype}[${this.shape.join(',')}] (${this.parts.length} part(s))`;
  }
}

/** Bytes of rows `[from, to)` of a tensor, copied into a buffer of their own. */
export function inlineRows(t: Tensor<DType>, from: number, to: number): WireTensor {
  const rowSize = t.shape.length === 0 ? 1 : sizeOf(t.shape.slice(1));
  const d = t.data;
  const rowBytes = rowSize * d.BYTES_PER_ELEMENT;
  const bytes = new Uint8Array(d.buffer, d.byteOffset + from * rowBytes, (to - from) * rowBytes).slice();
  return { dtype: t.dtype, shape: [to - from, ...t.shape.slice(1)], buffer: bytes.buffer, byteOffset: 0, length: (to - from) * rowSize };
}

/** A part ready for the wire: its handle where `host` holds it, else a copy of its rows. */
export function wirePart(p: StackPart, host: ResidentHost | undefined): WirePart {
  if (host && p.tensor instanceof ResidentTensor && p.tensor.heldBy(host)) return { handle: p.tensor.handle, from: p.from, to: p.to };
  return { tensor: inlineRows(p.tensor, p.from, p.to) };
}

export function wireRows(stack: RowStack, parts: WirePart[]): WireRows {
  return { dtype: stack.dtype, shape: [...stack.shape], parts };
}
