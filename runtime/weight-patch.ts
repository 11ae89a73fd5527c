/**
 * Weight patches applied to a model's initializers when its session is created: low-rank deltas (LoRA,
 * ComfyUI comfy/weight_adapter/lora.py `LoRAAdapter.calculate_weight`: W + strength * alpha/rank *
 * (up.flatten(1) @ down.flatten(1)).reshape(W.shape)) and extra rows appended to a table (textual
 * inversion vectors as new token ids). A patch is plain data (file paths, tensor keys, numbers): it
 * travels to the inference worker and keys the session cache; the worker reads the tensors itself.
 * Every delta is computed from the base weights in float32 and rounded to the model's element type once.
 */
import { ModelLoadError, WeightPatchError } from './errors.js';
export { WeightPatchError } from './errors.js';
import { float32ToFloat16 } from './float16.js';
import { DataType } from './onnx-proto.js';
import type { InitializerInfo, WeightIndex } from './onnx-weights.js';
import { elementBytes, readInitializerF32 } from './onnx-weights.js';
import type { SafetensorsHeader } from './safetensors.js';
import { readSafetensorsHeader, readTensorF32 } from './safetensors.js';

/** One low-rank term: `scale` already folds strength and alpha / rank; `mid` is LoCon's Tucker factor. */
export interface LowRankTerm {
  readonly file: string;
  readonly up: string;
  readonly down: string;
  readonly mid?: string;
  readonly scale: number;
}

/** The deltas for one initializer; `transposed` when it stores W^T (a MatMul's [in, out] weight). */
export interface WeightDelta {
  readonly target: string;
  readonly transposed: boolean;
  readonly terms: readonly LowRankTerm[];
}

/** Rows appended to a 2-D table (each tensor [n, dim] or [dim] gives n rows, in order). */
export interface RowAppend {
  readonly target: string;
  readonly rows: readonly { readonly file: string; readonly key: string }[];
}

export interface WeightPatch {
  readonly deltas: readonly WeightDelta[];
  readonly append?: RowAppend;
}


/** A patched tensor's bytes inside the patch buffer. */
export interface PatchedTensor {
  readonly info: InitializerInfo;
  readonly dims: readonly number[];
  readonly offset: number;
  readonly length: number;
}

export function isEmptyPatch(p: WeightPatch | undefined): boolean {
  return !p || (p.deltas.every((d) => d.terms.length === 0) && (p.append?.rows.length ?? 0) === 0);
}

const ALIGN = 64;
const align = (n: number): number => Math.ceil(n / ALIGN) * ALIGN;
const product = (dims: readonly number[]): number => dims.reduce((a, d) => a * d, 1);

class Headers {
  private readonly byFile = new Map<string, SafetensorsHeader>();
  get(file: string): SafetensorsHeader {
    let h = this.byFile.get(file);
    if (!h) this.byFile.set(file, (h = readSafetensorsHeader(file)));
    return h;
  }
}

function tensorShape(h: SafetensorsHeader, key: string): readonly number[] {
  const t = h.tensors.get(key);
  if (!t) throw new WeightPatchError(`${h.file}: has no tensor '${key}'`);
  return t.shape;
}

/**
 * LoCon's Tucker down factor, as ComfyUI's LoRAAdapter.calculate_weight builds it: down'[o, i, y, x] =
 * sum_r down[r, i] * mid[o, r, y, x], for down [rank, in(, 1, 1)] and mid [rank, rank, kh, kw].
 */
function tuckerDown(down: Float32Array, downShape: readonly number[], mid: Float32Array, midShape: readonly number[]): Float32Array {
  const [ro, ri, kh, kw] = midShape;
  const inn = product(downShape.slice(1));
  if (downShape[0] !== ri) throw new WeightPatchError(`Tucker factor [${midShape.join(', ')}] does not take a down factor of rank ${downShape[0]}`);
  const k = kh * kw;
  const out = new Float32Array(ro * inn * k);
  for (let o = 0; o < ro; o++) {
    for (let i = 0; i < inn; i++) {
      for (let p = 0; p < k; p++) {
        let acc = 0;
        for (let r = 0; r < ri; r++) acc += down[r * inn + i] * mid[(o * ri + r) * k + p];
        out[(o * inn + i) * k + p] = acc;
      }
    }
  }
  return out;
}

/** Adds scale * up @ down to `w` (laid out [out, in...], or [in, out] when transposed). */
function addLowRank(w: Float32Array, dims: readonly number[], d: WeightDelta, term: LowRankTerm, headers: Headers): void {
  const h = headers.get(term.file);
  const upShape = tensorShape(h, term.up);
  const rawDownShape = tensorShape(h, term.down);
  const midShape = term.mid ? tensorShape(h, term.mid) : undefined;
  // With a Tucker factor the down side is [rank, in, kh, kw] (tuckerDown).
  const downShape = midShape ? [midShape[0], product(rawDownShape.slice(1)), midShape[2], midShape[3]] : rawDownShape;
  const out = upShape[0];
  const rank = product(upShape.slice(1));
  const inn = product(downShape.slice(1));
  const fail = (why: string): WeightPatchError =>
    new WeightPatchError(`${term.file}: '${term.up}' [${upShape.join(', ')}] x '${term.down}' [${downShape.join(', ')}] ${why} (target '${d.target}' [${dims.join(', ')}])`);
  if (downShape[0] !== rank) throw fail(`disagree on the rank (${rank} vs ${downShape[0]})`);
  const wOut = d.transposed ? dims[dims.length - 1] : dims[0];
  const wIn = d.transposed ? product(dims.slice(0, -1)) : product(dims.slice(1));
  if (wOut !== out || wIn !== inn) throw fail(`make a [${out}, ${inn}] delta, the weight is [${wOut}, ${wIn}]`);
  const up = readTensorF32(h, term.up);
  const down = midShape && term.mid ? tuckerDown(readTensorF32(h, term.down), rawDownShape, readTensorF32(h, term.mid), midShape) : readTensorF32(h, term.down);
  const s = term.scale;
  if (d.transposed) {
    // W^T [in, out]: one row per input i, delta[i][o] = sum_r up[o][r] down[r][i], contiguous in o.
    const upT = new Float32Array(rank * out);
    for (let o = 0; o < out; o++) for (let r = 0; r < rank; r++) upT[r * out + o] = up[o * rank + r];
    const row = new Float32Array(out);
    for (let i = 0; i < inn; i++) {
      row.fill(0);
      for (let r = 0; r < rank; r++) {
        const dv = down[r * inn + i];
        if (dv === 0) continue;
        for (let o = 0, k = r * out; o < out; o++, k++) row[o] += upT[k] * dv;
      }
      for (let o = 0, k = i * out; o < out; o++, k++) w[k] += s * row[o];
    }
    return;
  }
  const row = new Float32Array(inn);
  for (let o = 0; o < out; o++) {
    row.fill(0);
    for (let r = 0; r < rank; r++) {
      const u = up[o * rank + r];
      if (u === 0) continue;
      for (let i = 0, k = r * inn; i < inn; i++, k++) row[i] += u * down[k];
    }
    for (let i = 0, k = o * inn; i < inn; i++, k++) w[k] += s * row[i];
  }
}

function appendedRows(a: RowAppend, table: InitializerInfo, headers: Headers): Float32Array[] {
  const dim = table.dims[1];
  return a.rows.map(({ file, key }) => {
    const h = headers.get(file);
    const shape = tensorShape(h, key);
    const last = shape[shape.length - 1];
    if (last !== dim) throw new WeightPatchError(`${file}: '${key}' [${shape.join(', ')}] has vectors of size ${last}, the table '${table.name}' has ${dim}`);
    return readTensorF32(h, key);
  });
}

function writeAs(dataType: number, src: Float32Array, dst: ArrayBuffer, offset: number): void {
  if (dataType === DataType.FLOAT) new Float32Array(dst, offset, src.length).set(src);
  else float32ToFloat16(src, new Uint16Array(dst, offset, src.length));
}

function patchable(index: WeightIndex, name: string): InitializerInfo {
  const info = index.initializers.get(name);
  if (!info) throw new WeightPatchError(`${index.path} has no initializer '${name}'`);
  if (info.dataType !== DataType.FLOAT && info.dataType !== DataType.FLOAT16) {
    throw new WeightPatchError(`${index.path}: initializer '${name}' has element type ${info.dataType}; only float32 and float16 weights can be patched`);
  }
  if (!info.data) throw new ModelLoadError(`${index.path}: initializer '${name}' holds no raw data`);
  return info;
}

/**
 * Computes every patched tensor into one buffer (64-byte aligned slots). Peak memory is the buffer plus,
 * for float16 models, a float32 and a half scratch of the largest tensor, and the LoRA factors of one term.
 */
export function computePatch(index: WeightIndex, patch: WeightPatch): { buffer: ArrayBuffer; tensors: PatchedTensor[] } {
  const headers = new Headers();
  const plan: { info: InitializerInfo; dims: number[]; delta?: WeightDelta; rows?: Float32Array[] }[] = [];
  for (const d of patch.deltas) {
    if (d.terms.length === 0) continue;
    const info = patchable(index, d.target);
    plan.push({ info, dims: [...info.dims], delta: d });
  }
  if (patch.append && patch.append.rows.length > 0) {
    const info = patchable(index, patch.append.target);
    if (info.dims.length !== 2) throw new WeightPatchError(`${index.path}: '${info.name}' [${info.dims.join(', ')}] is not a 2-D table`);
    if (plan.some((p) => p.info === info)) throw new WeightPatchError(`${index.path}: '${info.name}' cannot take both a delta and new rows`);
    const rows = appendedRows(patch.append, info, headers);
    const added = rows.reduce((a, r) => a + r.length / info.dims[1], 0);
    plan.push({ info, dims: [info.dims[0] + added, info.dims[1]], rows });
  }
  let size = 0;
  const offsets = plan.map((p) => {
    const at = size;
    size += align(product(p.dims) * (elementBytes(p.info.dataType) ?? 4));
    return at;
  });
  const buffer = new ArrayBuffer(size);
  const tensors: PatchedTensor[] = [];
  // float16 tensors go through one float32 and one half scratch, sized for the largest and reused.
  const halfMax = Math.max(0, ...plan.filter((p) => p.info.dataType !== DataType.FLOAT).map((p) => product(p.dims)));
  const scratch = new Float32Array(halfMax);
  const halfScratch = new Uint16Array(halfMax);
  plan.forEach((p, k) => {
    const count = product(p.dims);
    const offset = offsets[k];
    const fp32 = p.info.dataType === DataType.FLOAT;
    // float32 weights are patched in place in the output slot; float16 ones through one float32 copy.
    const w = fp32 ? new Float32Array(buffer, offset, count) : scratch.subarray(0, count);
    readInitializerF32(p.info, w.subarray(0, product(p.info.dims)), halfScratch);
    const baseLength = product(p.info.dims);
    if (p.delta) for (const t of p.delta.terms) addLowRank(w, p.dims, p.delta, t, headers);
    if (p.rows) {
      let at = baseLength;
      for (const r of p.rows) {
        w.set(r, at);
        at += r.length;
      }
    }
    if (!fp32) writeAs(p.info.dataType, w, buffer, offset);
    tensors.push({ info: p.info, dims: p.dims, offset, length: count * (elementBytes(p.info.dataType) ?? 4) });
  });
  return { buffer, tensors };
}
