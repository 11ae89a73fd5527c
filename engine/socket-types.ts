/**
 * Socket types: an id (ComfyUI's names where ComfyUI has the concept), a TypeScript value type and a
 * runtime guard. Types are bound to ids where the domain types live (sockets/ for the values families
 * share, each family for its own); the engine only knows ids, guards and the connection rules.
 */
import type { InputSpec } from './inputs.js';
import type { SocketId } from './socket-id.js';
import type { Shape } from './shape-types.js';

export { isSocketId, type SocketId } from './socket-id.js';

/**
 * A socket type with its TypeScript value type `V` and a runtime guard. It is itself a link input
 * spec, so `inputs: { model: T.MODEL }` and `outputs: { MODEL: T.MODEL }` both read naturally.
 */
export interface SocketType<V> extends InputSpec<V> {
  readonly id: SocketId;
  readonly kind: 'link';
  readonly guard: (v: unknown) => v is V;
  /** Bytes a value of this shape holds (memory admission, engine/memory-estimate.ts); absent: not sized. */
  readonly bytes?: (shape: Shape) => number;
}

export interface SocketOptions {
  /** Bytes a value of the inferred shape holds. */
  bytes?: (shape: Shape) => number;
}

function isObjectLike(v: unknown): v is object {
  return typeof v === 'object' && v !== null;
}

/** Binds a TypeScript type to a socket id. The default guard accepts any object (opaque handles). */
export function socket<V>(id: SocketId, guard?: (v: unknown) => v is V, opts: SocketOptions = {}): SocketType<V> {
  const g = guard ?? ((v: unknown): v is V => isObjectLike(v));
  return Object.freeze({ id, guard: g, kind: 'link', socket: id, info: Object.freeze({}), ...(opts.bytes ? { bytes: opts.bytes } : {}) });
}

export type ConnectCheck = { ok: true; coerce?: 'int-to-float' } | { ok: false; reason: string };

/**
 * The one connection rule shared by the engine, the server and the editor.
 * Spelled-out coercions only: INT -> FLOAT, STRING/COMBO interchange for choice inputs, '*' wildcards.
 */
export function canConnect(from: string, to: string): ConnectCheck {
  if (from === to) return { ok: true };
  if (from === '*' || to === '*') return { ok: true };
  if (from === 'INT' && to === 'FLOAT') return { ok: true, coerce: 'int-to-float' };
  if ((from === 'STRING' && to === 'COMBO') || (from === 'COMBO' && to === 'STRING')) return { ok: true };
  return { ok: false, reason: `type mismatch: output is ${from}, input expects ${to}` };
}
