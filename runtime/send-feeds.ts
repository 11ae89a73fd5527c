/**
 * How a run's feeds travel to a worker. Plain tensors are copied at call time (or handed over where the
 * caller allows it), so callers may reuse their arrays as soon as `run` returns. Resident tensors and row
 * stacks become `WireRows`: resident rows travel as handles once the hosting worker is known, other rows
 * are copied at call time.
 */
import type { TensorMap } from './io-meta.js';
import { narrowTensor } from './io-meta.js';
import type { ResidentHost, StackPart } from './resident.js';
import { ResidentTensor, RowStack, inlineRows, wirePart, wireRows } from './resident.js';
import type { DType, Tensor } from './tensor.js';
import type { WirePart, WireRows, WireTensor } from './wire.js';
import { packTensors } from './wire.js';

/** A feed: a tensor (possibly resident) or a stack of row ranges assembled in the worker. */
export type SessionFeed = Tensor<DType> | RowStack;
export type SessionFeeds = Readonly<Record<string, SessionFeed>>;

/** `true` hands over every plain feed's buffer; a list names the feeds whose buffers may be handed over. */
export type TransferChoice = boolean | readonly string[];

type Pending = { readonly ready: WirePart } | { readonly later: StackPart };

export interface PackedFeeds {
  /** The message parts for a run in `host` (undefined: no worker holds anything for it). */
  finish(host: ResidentHost | undefined): { feeds: Record<string, WireTensor>; rows: Record<string, WireRows> | undefined; transfer: ArrayBuffer[] };
}

/** A resident tensor with a batch axis travels as a one-part stack (its handle); others as plain tensors. */
function residentWhole(t: Tensor<DType>): RowStack | undefined {
  if (t instanceof ResidentTensor && t.shape.length > 0 && t.shape[0] > 0) return new RowStack([{ tensor: t, from: 0, to: t.shape[0] }]);
  return undefined;
}

export function packFeeds(feeds: SessionFeeds, transferInputs: TransferChoice = false): PackedFeeds {
  const moves = (name: string) => (typeof transferInputs === 'boolean' ? transferInputs : transferInputs.includes(name));
  const copied: TensorMap = {};
  const moved: TensorMap = {};
  const stacks: { name: string; stack: RowStack; parts: Pending[] }[] = [];
  const addStack = (name: string, stack: RowStack) => {
    const parts = stack.parts.map((p): Pending => (p.tensor instanceof ResidentTensor ? { later: p } : { ready: { tensor: inlineRows(p.tensor, p.from, p.to) } }));
    stacks.push({ name, stack, parts });
  };
  for (const [name, f] of Object.entries(feeds)) {
    if (f instanceof RowStack) {
      addStack(name, f);
      continue;
    }
    const whole = residentWhole(f);
    if (whole) addStack(name, whole);
    else (moves(name) ? moved : copied)[name] = narrowTensor(f);
  }
  const a = packTensors(copied, true);
  const b = packTensors(moved, false);
  return {
    finish(host) {
      const transfer = [...a.transfer, ...b.transfer];
      if (stacks.length === 0) return { feeds: { ...a.wire, ...b.wire }, rows: undefined, transfer };
      const rows: Record<string, WireRows> = {};
      for (const { name, stack, parts } of stacks) {
        const wire = parts.map((p) => ('ready' in p ? p.ready : wirePart(p.later, host)));
        for (const w of wire) if ('tensor' in w && !transfer.includes(w.tensor.buffer)) transfer.push(w.tensor.buffer);
        rows[name] = wireRows(stack, wire);
      }
      return { feeds: { ...a.wire, ...b.wire }, rows, transfer };
    },
  };
}
