/**
 * Feed adaptation: callers pass float32 floats and int32/int64 ids; each feed is converted to the
 * element type and rank the session declares (diffusers/optimum/Olive exports differ; see spec/models.md).
 */
import { feedError, OutputTypeError, outputNotFound } from './errors.js';
import { float16ToFloat32, float32ToFloat16 } from './float16.js';
import type { AnyTensor, Dim, ElementType, IoMeta, TensorMap } from './io-meta.js';
import { describeTensor } from './io-meta.js';
import { Tensor } from './tensor.js';

/** Values of a tensor as plain numbers (float16 decoded); int64 beyond 2^53 loses precision here. */
function asFloat32(t: AnyTensor): Float32Array {
  switch (t.dtype) {
    case 'float32': return t.data;
    case 'float16': return float16ToFloat32(t.data);
    case 'int64': return Float32Array.from(t.data, Number);
    default: return Float32Array.from(t.data);
  }
}

class ConversionProblem {
  constructor(readonly message: string) {}
}

function roundToInt(v: number, name: string): number {
  if (!Number.isFinite(v)) throw new ConversionProblem(`${name}: cannot convert ${v} to an integer`);
  return Math.round(v);
}

/** Converts a tensor's element type; returns a ConversionProblem when the pair is not supported. */
export function convertDtype(t: AnyTensor, to: ElementType, name = 'tensor'): AnyTensor {
  if (t.dtype === to) return t;
  switch (to) {
    case 'float32':
      return new Tensor('float32', asFloat32(t), t.shape);
    case 'float16':
      return new Tensor('float16', float32ToFloat16(asFloat32(t)), t.shape);
    case 'int64':
      if (t.dtype === 'int32' || t.dtype === 'uint8') return new Tensor('int64', BigInt64Array.from(t.data, (v) => BigInt(v)), t.shape);
      return new Tensor('int64', BigInt64Array.from(asFloat32(t), (v) => BigInt(roundToInt(v, name))), t.shape);
    case 'int32': {
      if (t.dtype === 'int64') {
        const out = new Int32Array(t.size);
        for (let i = 0; i < out.length; i++) {
          const v = t.data[i];
          if (v > 2147483647n || v < -2147483648n) throw new ConversionProblem(`${name}: int64 value ${v} does not fit int32`);
          out[i] = Number(v);
        }
        return new Tensor('int32', out, t.shape);
      }
      if (t.dtype === 'uint8') return new Tensor('int32', Int32Array.from(t.data), t.shape);
      return new Tensor('int32', Int32Array.from(asFloat32(t), (v) => roundToInt(v, name)), t.shape);
    }
    default:
      throw new ConversionProblem(`${name}: cannot convert ${t.dtype} to ${to}`);
  }
}

/** Picks elements by index into a new tensor of the same element type. */
function gather(t: AnyTensor, idx: readonly number[], shape: readonly number[]): AnyTensor {
  switch (t.dtype) {
    case 'float32': return new Tensor('float32', Float32Array.from(idx, (i) => t.data[i]), shape);
    case 'float16': return new Tensor('float16', Uint16Array.from(idx, (i) => t.data[i]), shape);
    case 'int32': return new Tensor('int32', Int32Array.from(idx, (i) => t.data[i]), shape);
    case 'int64': return new Tensor('int64', BigInt64Array.from(idx, (i) => t.data[i]), shape);
    case 'uint8': return new Tensor('uint8', Uint8Array.from(idx, (i) => t.data[i]), shape);
    case 'bool': return new Tensor('bool', Uint8Array.from(idx, (i) => t.data[i]), shape);
  }
}

function allEqual(t: AnyTensor): boolean {
  for (let i = 1; i < t.size; i++) if (t.data[i] !== t.data[0]) return false;
  return true;
}

const repeat = (n: number, i = 0): number[] => new Array<number>(n).fill(i);

/**
 * Rank-0/1 inputs (timesteps): scalar `[]`, `[1]` or per-row `[B]`. Equal rows collapse to one value
 * where the model wants one; a single value repeats where the model wants one per row.
 */
function adaptVector(t: AnyTensor, meta: IoMeta, bound: ReadonlyMap<string, number>): AnyTensor | string {
  const n = t.size;
  if (meta.shape.length === 0) {
    if (n === 1 || (n > 1 && allEqual(t))) return gather(t, [0], []);
    return `${meta.name} is a scalar in this model but got ${n} different values`;
  }
  const d = meta.shape[0];
  const want = typeof d === 'number' ? d : bound.get(d);
  if (want === undefined || n === want) return t.reshape([n]);
  if (n === 1) return gather(t, repeat(want), [want]);
  if (want === 1 && allEqual(t)) return gather(t, [0], [1]);
  return `${meta.name} needs ${want} value(s) (dim '${d}') but got ${n}`;
}

/** Binds each symbolic dim name to the size a feed of the right rank gives it (first binding wins). */
function bindSymbols(inputs: readonly IoMeta[], feeds: TensorMap): Map<string, number> {
  const bound = new Map<string, number>();
  for (const m of inputs) {
    const t = feeds[m.name];
    if (!t || !m.shapeKnown || m.shape.length < 2 || t.shape.length !== m.shape.length) continue;
    m.shape.forEach((d, i) => {
      if (typeof d === 'string' && d !== '?' && !bound.has(d)) bound.set(d, t.shape[i]);
    });
  }
  return bound;
}

function checkShape(t: AnyTensor, meta: IoMeta): string | undefined {
  if (t.shape.length !== meta.shape.length) {
    return `${meta.name} has rank ${meta.shape.length} but ${describeTensor(meta.name, t)} has rank ${t.shape.length}`;
  }
  const bad = meta.shape.findIndex((d, i) => typeof d === 'number' && d !== t.shape[i]);
  if (bad >= 0) return `${meta.name} needs dim ${bad} = ${meta.shape[bad]} but got ${t.shape[bad]}`;
  return undefined;
}

/** Converts every feed to its declared element type and rank; throws SessionFeedError naming everything. */
export function adaptFeeds(inputs: readonly IoMeta[], feeds: TensorMap): TensorMap {
  const declared = new Set(inputs.map((m) => m.name));
  const unknown = Object.keys(feeds).filter((k) => !declared.has(k));
  const missing = inputs.filter((m) => !(m.name in feeds)).map((m) => m.name);
  if (unknown.length > 0 || missing.length > 0) {
    const parts = [];
    if (missing.length > 0) parts.push(`missing input(s) ${missing.join(', ')}`);
    if (unknown.length > 0) parts.push(`unknown input(s) ${unknown.join(', ')}`);
    throw feedError(parts.join('; '), inputs, feeds);
  }
  const bound = bindSymbols(inputs, feeds);
  const out: TensorMap = {};
  for (const meta of inputs) {
    const given = feeds[meta.name];
    let t: AnyTensor;
    try {
      t = convertDtype(given, meta.dtype, meta.name);
    } catch (e) {
      if (e instanceof ConversionProblem) throw feedError(e.message, inputs, feeds);
      throw e;
    }
    if (meta.shapeKnown) {
      if (meta.shape.length <= 1 && t.shape.length <= 1) {
        const r = adaptVector(t, meta, bound);
        if (typeof r === 'string') throw feedError(r, inputs, feeds);
        t = r;
      } else {
        const problem = checkShape(t, meta);
        if (problem) throw feedError(problem, inputs, feeds);
      }
    }
    out[meta.name] = t;
  }
  return out;
}

/** Which outputs to fetch and the key each is returned under. */
export interface OutputPlan {
  readonly fetch: readonly string[];
  readonly keys: readonly string[];
}

/**
 * Each group lists acceptable names for one output (e.g. ['out_sample', 'latent']); the result is keyed
 * by the group's first name. The first group falls back to output index 0, as exporters rename it freely.
 * Without groups every output is fetched under its own name.
 */
export function planOutputs(outputs: readonly IoMeta[], groups?: readonly (readonly string[])[]): OutputPlan {
  if (!groups || groups.length === 0) return { fetch: outputs.map((o) => o.name), keys: outputs.map((o) => o.name) };
  const names = new Set(outputs.map((o) => o.name));
  const fetch = groups.map((g, i) => {
    const hit = g.find((n) => names.has(n));
    if (hit !== undefined) return hit;
    if (i === 0 && outputs.length > 0) return outputs[0].name;
    throw outputNotFound(g, outputs);
  });
  return { fetch, keys: groups.map((g, i) => g[0] ?? fetch[i]) };
}

/** Converts a session output back: floats to float32, ids and masks untouched. */
export function fromSessionOutput(type: ElementType, data: unknown, dims: readonly Dim[]): AnyTensor {
  const shape = dims.map(Number);
  if (type === 'float16' && data instanceof Uint16Array) return new Tensor('float32', float16ToFloat32(data), shape);
  if (data instanceof Float32Array) return new Tensor('float32', data, shape);
  if (data instanceof Float64Array) return new Tensor('float32', Float32Array.from(data), shape);
  if (data instanceof BigInt64Array) return new Tensor('int64', data, shape);
  if (data instanceof Int32Array) return new Tensor('int32', data, shape);
  if (data instanceof Uint8Array) return type === 'bool' ? new Tensor('bool', data, shape) : new Tensor('uint8', data, shape);
  if (data instanceof Int8Array || data instanceof Int16Array || data instanceof Uint32Array) {
    return new Tensor('int32', Int32Array.from(data), shape);
  }
  if (data instanceof BigUint64Array) return new Tensor('int64', BigInt64Array.from(data, (v) => BigInt.asIntN(64, v)), shape);
  // Float16Array (a global from Node 24 on): reinterpret its bits.
  if (type === 'float16' && ArrayBuffer.isView(data)) {
    return new Tensor('float32', float16ToFloat32(new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2)), shape);
  }
  throw new OutputTypeError(`cannot read a ${type} output`);
}
