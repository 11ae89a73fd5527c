import type { SocketId } from './socket-id.js';
import type { Services } from './services.js';

export type InputKind = 'link' | 'INT' | 'FLOAT' | 'STRING' | 'BOOLEAN' | 'COMBO';

/** Options shared by every input; names are ComfyUI's `/object_info` keys. */
export interface CommonInputOptions {
  tooltip?: string;
  /** Show as a socket, never as a widget. */
  forceInput?: boolean;
  /** Rendered but not sent (ComfyUI `advanced`). */
  advanced?: boolean;
}

export type ComboSource = readonly string[] | ((services: Services) => readonly string[]);

/**
 * One input of a node: a socket kind plus the widget options that `/object_info` publishes.
 * `V` is the TypeScript type `run` receives (phantom).
 */
export interface InputSpec<V = unknown> {
  readonly kind: InputKind;
  readonly socket: SocketId;
  /** Exactly the options object of ComfyUI's `/object_info` for this input. */
  readonly info: Readonly<Record<string, unknown>>;
  readonly combo?: ComboSource;
  readonly __value?: V;
}

export type ValueOf<S> = S extends InputSpec<infer V> ? V : never;

type Maybe<T> = T | undefined;

export interface IntOptions extends CommonInputOptions {
  default?: number | bigint;
  min?: number | bigint;
  max?: number | bigint;
  step?: number;
  display?: 'number' | 'slider';
  controlAfterGenerate?: boolean;
}

export interface FloatOptions extends CommonInputOptions {
  default?: number;
  min?: number;
  max?: number;
  step?: number;
  round?: number | false;
  display?: 'number' | 'slider';
}

export interface StringOptions extends CommonInputOptions {
  default?: string;
  multiline?: boolean;
  dynamicPrompts?: boolean;
  placeholder?: string;
}

export interface BooleanOptions extends CommonInputOptions {
  default?: boolean;
  labelOn?: string;
  labelOff?: string;
}

export interface ComboOptions extends CommonInputOptions {
  default?: string;
  imageUpload?: boolean;
}

function common(o: CommonInputOptions): Record<string, unknown> {
  const info: Record<string, unknown> = {};
  if (o.tooltip !== undefined) info.tooltip = o.tooltip;
  if (o.forceInput) info.forceInput = true;
  if (o.advanced) info.advanced = true;
  return info;
}

function put(info: Record<string, unknown>, key: string, v: unknown): void {
  if (v !== undefined) info[key] = v;
}

/** An INT widget; an upper bound above 2^53 (a bigint) makes `run` receive exact bigints. */
export function INT<O extends IntOptions>(o: O): InputSpec<O['max'] extends bigint ? bigint : number> {
  const info = common(o);
  put(info, 'default', o.default ?? 0);
  put(info, 'min', o.min);
  put(info, 'max', o.max);
  put(info, 'step', o.step);
  put(info, 'display', o.display);
  if (o.controlAfterGenerate) info.control_after_generate = true;
  return Object.freeze({ kind: 'INT', socket: 'INT', info: Object.freeze(info) });
}

export function FLOAT(o: FloatOptions = {}): InputSpec<number> {
  const info = common(o);
  put(info, 'default', o.default ?? 0);
  put(info, 'min', o.min);
  put(info, 'max', o.max);
  put(info, 'step', o.step);
  put(info, 'round', o.round);
  put(info, 'display', o.display);
  return Object.freeze({ kind: 'FLOAT', socket: 'FLOAT', info: Object.freeze(info) });
}

export function STRING(o: StringOptions = {}): InputSpec<string> {
  const info = common(o);
  put(info, 'default', o.default ?? '');
  if (o.multiline) info.multiline = true;
  put(info, 'dynamicPrompts', o.dynamicPrompts);
  put(info, 'placeholder', o.placeholder);
  return Object.freeze({ kind: 'STRING', socket: 'STRING', info: Object.freeze(info) });
}

export function BOOLEAN(o: BooleanOptions = {}): InputSpec<boolean> {
  const info = common(o);
  put(info, 'default', o.default ?? false);
  put(info, 'label_on', o.labelOn);
  put(info, 'label_off', o.labelOff);
  return Object.freeze({ kind: 'BOOLEAN', socket: 'BOOLEAN', info: Object.freeze(info) });
}

/** A choice among fixed options (typed as their union) or options listed at request time. */
export function COMBO<const V extends string>(options: readonly V[], o?: ComboOptions): InputSpec<V>;
export function COMBO(options: (services: Services) => readonly string[], o?: ComboOptions): InputSpec<string>;
export function COMBO(options: ComboSource, o: ComboOptions = {}): InputSpec<string> {
  const info = common(o);
  put(info, 'default', o.default);
  if (o.imageUpload) info.image_upload = true;
  return Object.freeze({ kind: 'COMBO', socket: 'COMBO', info: Object.freeze(info), combo: options });
}

/** Resolves a combo's options now (dynamic combos list folders at request time). */
export function comboOptions(spec: InputSpec, services: Services): readonly string[] {
  const c = spec.combo;
  if (c === undefined) return [];
  return typeof c === 'function' ? c(services) : c;
}

export type { Maybe };
