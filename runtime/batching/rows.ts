/** Row (batch-axis) slicing and concatenation of float32 tensors for merged U-Net calls. */
import { Tensor } from '../tensor.js';

/** A run of rows `[from, to)` of one tensor. */
export interface RowRange {
  readonly tensor: Tensor;
  readonly from: number;
  readonly to: number;
}

/** Elements per row (everything after the batch axis). */
export function rowSize(t: Tensor): number {
  return t.shape[0] === 0 ? 0 : t.size / t.shape[0];
}

/**
 * Concatenates row ranges along the batch axis, then repeats the last row `pad` times (a fixed-batch
 * model's unused rows; their outputs are dropped). One whole tensor and no padding is returned as is.
 */
export function concatRows(parts: readonly RowRange[], pad = 0): Tensor {
  const first = parts[0].tensor;
  if (parts.length === 1 && pad === 0 && parts[0].from === 0 && parts[0].to === first.shape[0]) return first;
  const size = rowSize(first);
  const rows = parts.reduce((n, p) => n + p.to - p.from, 0);
  const out = new Float32Array((rows + pad) * size);
  let at = 0;
  for (const p of parts) {
    out.set(p.tensor.data.subarray(p.from * size, p.to * size), at);
    at += (p.to - p.from) * size;
  }
  const last = out.subarray(at - size, at);
  for (let i = 0; i < pad; i++, at += size) out.set(last, at);
  return new Tensor('float32', out, [rows + pad, ...first.shape.slice(1)]);
}
