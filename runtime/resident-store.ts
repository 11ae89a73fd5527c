/**
 * Worker side of resident tensors (resident.ts): tensors kept across runs, named by handle, and feeds
 * assembled from their rows. Stacks made only of resident rows repeat from step to step while the same
 * jobs run together, so the last few assembled ones are kept until one of their tensors is dropped.
 * A float feed the session declares in the other float type (fp16 U-Nets) is converted once per
 * resident tensor or stack, not on every run.
 */
import { ResidentTensorError } from './errors.js';
import { convertDtype } from './feeds.js';
import type { AnyTensor, ElementType } from './io-meta.js';
import type { DType } from './tensor.js';
import { sizeOf } from './tensor.js';
import type { WireRows } from './wire.js';
import { unpackTensor } from './wire.js';

const BYTES: Record<DType, number> = { float32: 4, float16: 2, int32: 4, int64: 8, uint8: 1, bool: 1 };

/** NOTE: 8 stacks of 16 conditioning rows are ~30 MB; more distinct stacks at once are unusual. */
const ASSEMBLED_KEPT = 8;

interface Assembled {
  readonly tensor: AnyTensor;
  readonly handles: ReadonlySet<number>;
}

export class ResidentStore {
  private readonly tensors = new Map<number, AnyTensor>();
  /** Whole resident tensors converted to the other float type, by handle. */
  private readonly converted = new Map<number, AnyTensor>();
  private readonly assembled = new Map<string, Assembled>();
  private nextHandle = 1;
  private held = 0;

  /** Bytes of the kept tensors (assembled stacks not counted). */
  get bytes(): number {
    return this.held;
  }

  get count(): number {
    return this.tensors.size;
  }

  /** Stacks currently cached (tests read it). */
  get stacks(): number {
    return this.assembled.size;
  }

  keep(t: AnyTensor): number {
    const handle = this.nextHandle++;
    this.tensors.set(handle, t);
    this.held += t.data.byteLength;
    return handle;
  }

  drop(handles: readonly number[]): void {
    const gone = new Set<number>();
    for (const h of handles) {
      const t = this.tensors.get(h);
      if (!t) continue;
      this.held -= t.data.byteLength;
      this.tensors.delete(h);
      this.converted.delete(h);
      gone.add(h);
    }
    for (const [key, a] of this.assembled) if ([...a.handles].some((h) => gone.has(h))) this.assembled.delete(key);
  }

  private get(handle: number): AnyTensor {
    const t = this.tensors.get(handle);
    if (!t) throw new ResidentTensorError(`resident tensor ${handle} is not held by this worker (released, or kept in another worker)`);
    return t;
  }

  /**
   * The feed a WireRows describes; a single whole resident tensor is returned as is (no copy). `want` is
   * the element type the session declares: float32 <-> float16 is done here once and kept.
   */
  assemble(rows: WireRows, want?: ElementType): AnyTensor {
    const { parts, dtype, shape } = rows;
    const to = want !== dtype && isFloat(dtype) && want !== undefined && isFloat(want) ? want : undefined;
    const only = parts.length === 1 ? parts[0] : undefined;
    if (only && 'tensor' in only) return this.checked(unpackTensor(only.tensor), rows);
    if (only && 'handle' in only) {
      const t = this.get(only.handle);
      if (only.from === 0 && only.to === t.shape[0]) {
        this.checked(t, rows);
        if (to === undefined) return t;
        const done = this.converted.get(only.handle);
        if (done?.dtype === to) return done;
        const c = convertDtype(t, to);
        this.converted.set(only.handle, c);
        return c;
      }
    }
    const allResident = parts.every((p) => 'handle' in p);
    const key = allResident ? `${to ?? dtype}<-${dtype}[${shape.join(',')}]:${parts.map((p) => ('handle' in p ? `${p.handle}/${p.from}-${p.to}` : '')).join(',')}` : undefined;
    if (key !== undefined) {
      const hit = this.assembled.get(key);
      if (hit) {
        // Re-inserted: the map's order is least recently used first.
        this.assembled.delete(key);
        this.assembled.set(key, hit);
        return hit.tensor;
      }
    }
    const rowSize = sizeOf(shape.slice(1));
    const rowBytes = rowSize * BYTES[dtype];
    const out = new Uint8Array(sizeOf(shape) * BYTES[dtype]);
    let at = 0;
    const handles = new Set<number>();
    for (const p of parts) {
      const src = 'handle' in p ? this.get(p.handle) : unpackTensor(p.tensor);
      const from = 'handle' in p ? p.from : 0;
      const to = 'handle' in p ? p.to : src.shape[0];
      if ('handle' in p) handles.add(p.handle);
      if (src.dtype !== dtype || sizeOf(src.shape.slice(1)) !== rowSize || from < 0 || to > src.shape[0] || from >= to) {
        throw new ResidentTensorError(`rows [${from}, ${to}) of ${src.dtype}[${src.shape.join(',')}] do not fit a stack of ${dtype}[${shape.join(',')}]`);
      }
      const d = src.data;
      const n = (to - from) * rowBytes;
      if (at + n > out.length) throw new ResidentTensorError(`the parts of a ${dtype}[${shape.join(',')}] stack hold more rows than it`);
      out.set(new Uint8Array(d.buffer, d.byteOffset + from * rowBytes, n), at);
      at += n;
    }
    if (at !== out.length) throw new ResidentTensorError(`the parts of a ${dtype}[${shape.join(',')}] stack hold ${at / rowBytes} rows`);
    const stacked = unpackTensor({ dtype, shape: [...shape], buffer: out.buffer, byteOffset: 0, length: sizeOf(shape) });
    const tensor = to !== undefined && key !== undefined ? convertDtype(stacked, to) : stacked;
    if (key !== undefined) {
      this.assembled.set(key, { tensor, handles });
      if (this.assembled.size > ASSEMBLED_KEPT) this.assembled.delete(this.assembled.keys().next().value ?? key);
    }
    return tensor;
  }

  private checked(t: AnyTensor, rows: WireRows): AnyTensor {
    if (t.dtype !== rows.dtype || t.shape.length !== rows.shape.length || t.shape.some((d, i) => d !== rows.shape[i])) {
      throw new ResidentTensorError(`resident ${t.dtype}[${t.shape.join(',')}] does not match the stack ${rows.dtype}[${rows.shape.join(',')}]`);
    }
    return t;
  }
}

function isFloat(t: ElementType): t is 'float32' | 'float16' {
  return t === 'float32' || t === 'float16';
}
