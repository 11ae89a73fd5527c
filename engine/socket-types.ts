/**
 * The closed registry of socket types. Ids follow ComfyUI's names where ComfyUI has the concept.
 * TypeScript types are bound to ids once, where the domain types live (nodes/sockets.ts); the engine
 * only knows ids, runtime guards and the connection rules.
 */
import type { CommonInputOptions, InputSpec } from './inputs.js';

export const SOCKET_IDS = [
  'MODEL', 'CLIP', 'VAE', 'CONDITIONING', 'LATENT', 'IMAGE', 'MASK', 'CLIP_VISION', 'CLIP_VISION_OUTPUT',
  'SIGMAS', 'SAMPLER', 'NOISE', 'GUIDER', 'INT', 'FLOAT', 'STRING', 'BOOLEAN', 'COMBO',
  'CLASSIFIER', 'SCORES', 'IMAGE_INDEX', 'UPSCALE_MODEL', '*',
] as const;

export type SocketId = (typeof SOCKET_IDS)[number];

const SOCKET_ID_SET: ReadonlySet<string> = new Set(SOCKET_IDS);

export function isSocketId(s: string): s is SocketId {
  return SOCKET_ID_SET.has(s);
}

/**
 * A socket type with its TypeScript value type `V` and a runtime guard. It is itself a link input
 * spec, so `inputs: { model: T.MODEL }` and `outputs: { MODEL: T.MODEL }` both read naturally.
 */
export interface SocketType<V> extends InputSpec<V> {
  readonly id: SocketId;
  readonly kind: 'link';
  readonly guard: (v: unknown) => v is V;
}

function isObjectLike(v: unknown): v is object {
  return typeof v === 'object' && v !== null;
}

/** Binds a TypeScript type to a socket id. The default guard accepts any object (opaque handles). */
export function socket<V>(id: SocketId, guard?: (v: unknown) => v is V): SocketType<V> {
  const g = guard ?? ((v: unknown): v is V => isObjectLike(v));
  return Object.freeze({ id, guard: g, kind: 'link', socket: id, info: Object.freeze({}) });
}

/** The same socket as an input with options (tooltip, ...). */
export function linkInput<V>(t: SocketType<V>, opts: CommonInputOptions): SocketType<V> {
  const info: Record<string, unknown> = {};
  if (opts.tooltip !== undefined) info.tooltip = opts.tooltip;
  return Object.freeze({ ...t, info: Object.freeze(info) });
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
