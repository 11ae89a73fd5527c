import type { JsonValue } from '../json.js';
import type { ObjectInfoEntry, ObjectInfoInput } from '../object-info.js';

/** The widget kinds ComfyUI's frontend builds from `/object_info` inputs. */
export type WidgetKind = 'INT' | 'FLOAT' | 'STRING' | 'BOOLEAN' | 'COMBO';

/** One position of a node's `widgets_values` list. */
export type WidgetPosition =
  | { readonly role: 'value'; readonly input: string; readonly kind: WidgetKind; readonly forceInput: boolean; readonly fallback: JsonValue }
  /** The "control after generate" combo (fixed/increment/decrement/randomize) after a seed. */
  | { readonly role: 'control'; readonly input: string }
  /** The upload button that ComfyUI's frontend adds to nodes with an `image_upload` combo. */
  | { readonly role: 'upload' };

const WIDGET_KINDS: readonly WidgetKind[] = ['INT', 'FLOAT', 'STRING', 'BOOLEAN', 'COMBO'];
const UPLOAD_FLAGS = ['image_upload', 'animated_image_upload', 'video_upload', 'audio_upload'] as const;
/** Inputs that got a control widget by name before `control_after_generate` existed (frontend useIntWidget). */
const LEGACY_SEED_NAMES: ReadonlySet<string> = new Set(['seed', 'noise_seed']);

/** The widget kind of an input, or undefined for a socket-only input. */
export function widgetKind(spec: ObjectInfoInput | undefined): WidgetKind | undefined {
  if (!Array.isArray(spec)) return undefined;
  const t = spec[0];
  if (Array.isArray(t)) return 'COMBO';
  return WIDGET_KINDS.find((k) => k === t);
}

/** The socket type of an input as litegraph names it (combos are "COMBO"). */
export function inputType(spec: ObjectInfoInput | undefined): string {
  if (!Array.isArray(spec)) return '*';
  return Array.isArray(spec[0]) ? 'COMBO' : String(spec[0]);
}

function optionsOf(spec: ObjectInfoInput): Record<string, unknown> {
  const o = spec[1];
  return o !== null && typeof o === 'object' ? o : {};
}

function comboChoices(spec: ObjectInfoInput): readonly unknown[] {
  if (Array.isArray(spec[0])) return spec[0];
  const listed = optionsOf(spec).options;
  return Array.isArray(listed) ? listed : [];
}

function isJsonScalar(v: unknown): v is string | number | boolean | bigint {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint';
}

/** The value a fresh widget holds in ComfyUI's frontend: `default`, else the first option, else zero/empty. */
function fallbackValue(kind: WidgetKind, spec: ObjectInfoInput): JsonValue {
  const d = optionsOf(spec).default;
  if (isJsonScalar(d)) return d;
  if (kind === 'COMBO') {
    const first = comboChoices(spec)[0];
    return isJsonScalar(first) ? first : '';
  }
  return kind === 'STRING' ? '' : kind === 'BOOLEAN' ? false : 0;
}

function hasControl(name: string, kind: WidgetKind, spec: ObjectInfoInput): boolean {
  const c = optionsOf(spec).control_after_generate;
  if (c !== undefined && c !== null) return c !== false;
  return kind === 'INT' && LEGACY_SEED_NAMES.has(name);
}

function hasUpload(spec: ObjectInfoInput): boolean {
  const o = optionsOf(spec);
  return UPLOAD_FLAGS.some((f) => o[f] === true);
}

function positionsOf(names: readonly string[], specs: Record<string, ObjectInfoInput> | undefined, withForced: boolean): WidgetPosition[] {
  const out: WidgetPosition[] = [];
  for (const name of names) {
    const spec = specs?.[name];
    const kind = widgetKind(spec);
    if (!spec || !kind) continue;
    const forceInput = optionsOf(spec).forceInput === true;
    if (forceInput && !withForced) continue;
    out.push({ role: 'value', input: name, kind, forceInput, fallback: fallbackValue(kind, spec) });
    if (hasControl(name, kind, spec)) out.push({ role: 'control', input: name });
  }
  return out;
}

/**
 * The order of a node's `widgets_values`, as ComfyUI's frontend builds widgets: inputs in
 * `input_order` (required, then optional), a control value after each seed, and the upload
 * button after the required inputs (extensions/core/uploadImage appends an `upload` input there).
 * `withForced` keeps `forceInput` inputs, which frontends before 1.16 also gave a widget value.
 */
export function widgetPositions(entry: ObjectInfoEntry, withForced = false): WidgetPosition[] {
  const required = entry.input_order?.required ?? Object.keys(entry.input?.required ?? {});
  const optional = entry.input_order?.optional ?? Object.keys(entry.input?.optional ?? {});
  const out = positionsOf(required, entry.input?.required, withForced);
  if (required.some((n) => entry.input?.required?.[n] && widgetKind(entry.input.required[n]) === 'COMBO' && hasUpload(entry.input.required[n]))) {
    out.push({ role: 'upload' });
  }
  out.push(...positionsOf(optional, entry.input?.optional, withForced));
  return out;
}

/** Chooses the layout a saved `widgets_values` list was written with (frontend's migrateWidgetsValues rule). */
export function layoutFor(entry: ObjectInfoEntry, valueCount: number): WidgetPosition[] {
  const plain = widgetPositions(entry, false);
  if (valueCount === plain.length) return plain;
  const forced = widgetPositions(entry, true);
  return forced.length === valueCount ? forced : plain;
}

/** The spec of an input by name, from required or optional. */
export function inputSpec(entry: ObjectInfoEntry, name: string): ObjectInfoInput | undefined {
  return entry.input?.required?.[name] ?? entry.input?.optional?.[name];
}
