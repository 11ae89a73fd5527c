/**
 * Conditioning arithmetic of ComfyUI nodes.py: ConditioningConcat (token sequences end to end) and
 * ConditioningAverage (a weighted mix, the "from" sequence cut or zero-padded to the "to" length).
 * Only the first entry of conditioning_from is used, as in ComfyUI.
 */
import { FLOAT, NodeInputError, defineNode } from '../../engine/index.js';
import { Tensor } from '../../runtime/tensor.js';
import { CONDITIONING } from '../../sockets/index.js';
import type { CondEntry, Conditioning } from '../../sockets/index.js';

type Seq = [b: number, seq: number, dim: number];

function seqDims(t: Tensor, input: string): Seq {
  if (t.shape.length !== 3) throw new NodeInputError(input, `expected embeddings [B,tokens,dim], got ${t.describe()}`);
  return t.shape as Seq;
}

function firstFrom(from: Conditioning, ctxLog: (m: string) => void, node: string): CondEntry {
  const first = from[0];
  if (!first) throw new NodeInputError('conditioning_from', 'is empty');
  if (from.length > 1) ctxLog(`${node}: conditioning_from has ${from.length} entries, only the first is applied`);
  return first;
}

/** Batch row r of `from` for a `to` of batch bTo: equal batches pair up, a batch of 1 is shared (torch broadcasting). */
function fromRow(bFrom: number, bTo: number, r: number): number {
  if (bFrom === bTo) return r;
  if (bFrom === 1) return 0;
  throw new NodeInputError('conditioning_from', `batch ${bFrom} does not match conditioning_to's ${bTo}`);
}

/** torch.cat((to, from), dim=1): the tokens of `from` appended after those of `to`. */
export function concatTokens(to: Tensor, from: Tensor): Tensor {
  const [b, s1, d] = seqDims(to, 'conditioning_to');
  const [bf, s2, df] = seqDims(from, 'conditioning_from');
  if (df !== d) throw new NodeInputError('conditioning_from', `has width ${df}, conditioning_to has ${d}`);
  const out = new Float32Array(b * (s1 + s2) * d);
  for (let r = 0; r < b; r++) {
    const rf = fromRow(bf, b, r);
    out.set(to.data.subarray(r * s1 * d, (r + 1) * s1 * d), r * (s1 + s2) * d);
    out.set(from.data.subarray(rf * s2 * d, (rf + 1) * s2 * d), (r * (s1 + s2) + s1) * d);
  }
  return new Tensor('float32', out, [b, s1 + s2, d]);
}

/**
 * to * w + from' * (1 - w), where from' is `from` cut to the token length of `to`, or padded with zero
 * tokens up to it (ComfyUI ConditioningAverage).
 */
export function averageTokens(to: Tensor, from: Tensor, w: number): Tensor {
  const [b, s1, d] = seqDims(to, 'conditioning_to');
  const [bf, s2, df] = seqDims(from, 'conditioning_from');
  if (df !== d) throw new NodeInputError('conditioning_from', `has width ${df}, conditioning_to has ${d}`);
  const keep = Math.min(s1, s2);
  const out = new Float32Array(b * s1 * d);
  for (let r = 0; r < b; r++) {
    const rf = fromRow(bf, b, r);
    for (let t = 0; t < s1; t++) {
      for (let k = 0; k < d; k++) {
        const f = t < keep ? from.data[(rf * s2 + t) * d + k]! : 0;
        out[(r * s1 + t) * d + k] = to.data[(r * s1 + t) * d + k]! * w + f * (1 - w);
      }
    }
  }
  return new Tensor('float32', out, [b, s1, d]);
}

/** a * w + b * (1 - w) elementwise, for pooled outputs of one shape. */
function lerpPooled(a: Tensor, b: Tensor, w: number): Tensor {
  if (a.size !== b.size) throw new NodeInputError('conditioning_from', `pooled output ${b.describe()} does not match ${a.describe()}`);
  const out = new Float32Array(a.size);
  for (let i = 0; i < out.length; i++) out[i] = a.data[i]! * w + b.data[i]! * (1 - w);
  return new Tensor('float32', out, a.shape);
}

export const ConditioningConcat = defineNode({
  type: 'ConditioningConcat',
  displayName: 'Conditioning (Concat)',
  category: 'conditioning',
  version: '1.0.0',
  inputs: { conditioning_to: CONDITIONING, conditioning_from: CONDITIONING },
  outputs: { CONDITIONING },
  run(ctx, { conditioning_to, conditioning_from }) {
    const from = firstFrom(conditioning_from, (m) => ctx.log(m), 'ConditioningConcat');
    // Everything but the tokens (pooled output, area, strength) stays as conditioning_to has it.
    return { CONDITIONING: conditioning_to.map((e) => ({ ...e, embeds: concatTokens(e.embeds, from.embeds) })) };
  },
});

// NOTE: no display name: ComfyUI's NODE_DISPLAY_NAME_MAPPINGS key is "ConditioningAverage " (trailing
// space), so the name shown there is the type name.
export const ConditioningAverage = defineNode({
  type: 'ConditioningAverage',
  category: 'conditioning',
  version: '1.0.0',
  inputs: {
    conditioning_to: CONDITIONING,
    conditioning_from: CONDITIONING,
    conditioning_to_strength: FLOAT({ default: 1.0, min: 0.0, max: 1.0, step: 0.01 }),
  },
  outputs: { CONDITIONING },
  run(ctx, { conditioning_to, conditioning_from, conditioning_to_strength: w }) {
    const from = firstFrom(conditioning_from, (m) => ctx.log(m), 'ConditioningAverage');
    return {
      CONDITIONING: conditioning_to.map((e): CondEntry => {
        const embeds = averageTokens(e.embeds, from.embeds, w);
        // An entry without its own pooled output takes the one of `from` (mixing it with itself).
        const pooled = from.pooled ? lerpPooled(e.pooled ?? from.pooled, from.pooled, w) : e.pooled;
        return { ...e, embeds, pooled };
      }),
    };
  },
});
