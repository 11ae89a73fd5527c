import type { JsonValue } from '../../../engine/json.js';
import type { ObjectInfoEntry, ObjectInfoInput } from '../../../engine/object-info.js';
import { inputType, widgetKind, type WidgetKind } from '../../../engine/formats/widget-layout.js';

export type ObjectInfo = Record<string, ObjectInfoEntry>;

/** One input of a node type, as the editor draws it: a socket, and a widget when it has a kind. */
export interface InputDef {
  readonly name: string;
  /** Socket type for connections ("COMBO" for option lists). */
  readonly type: string;
  readonly widget?: WidgetKind;
  readonly optional: boolean;
  readonly options: Readonly<Record<string, unknown>>;
  /** Combo choices. */
  readonly choices: readonly JsonValue[];
  readonly control: boolean;
  readonly upload: boolean;
  /** A widget-typed input that only takes links (`forceInput`). */
  readonly forceInput: boolean;
  readonly fallback: JsonValue;
}

export interface OutputDef {
  readonly name: string;
  readonly type: string;
  readonly isList: boolean;
}

/** A node type as the editor sees it: read once from `/object_info`, never described elsewhere. */
export interface NodeSpec {
  readonly type: string;
  readonly displayName: string;
  readonly category: string;
  readonly description: string;
  readonly outputNode: boolean;
  readonly inputs: readonly InputDef[];
  readonly outputs: readonly OutputDef[];
}

const LEGACY_SEED_NAMES = new Set(['seed', 'noise_seed']);

function isScalar(v: unknown): v is string | number | boolean | bigint {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint';
}

function toJson(v: unknown): JsonValue | undefined {
  return isScalar(v) || v === null ? v : undefined;
}

function readInput(name: string, spec: ObjectInfoInput, optional: boolean): InputDef {
  const kind = widgetKind(spec);
  const options: Record<string, unknown> = spec[1] !== null && typeof spec[1] === 'object' ? spec[1] : {};
  const rawChoices = Array.isArray(spec[0]) ? spec[0] : Array.isArray(options.options) ? options.options : [];
  const choices = rawChoices.map(toJson).filter((v): v is JsonValue => v !== undefined);
  const c = options.control_after_generate;
  const control = kind === 'INT' && (c !== undefined && c !== null ? c !== false : LEGACY_SEED_NAMES.has(name));
  const d = toJson(options.default);
  const fallback: JsonValue =
    d !== undefined && d !== null ? d : kind === 'COMBO' ? (choices[0] ?? '') : kind === 'STRING' ? '' : kind === 'BOOLEAN' ? false : 0;
  return {
    name,
    type: inputType(spec),
    widget: kind,
    optional,
    options,
    choices,
    control,
    upload: options.image_upload === true,
    forceInput: options.forceInput === true,
    fallback,
  };
}

function readSection(entry: ObjectInfoEntry, which: 'required' | 'optional'): InputDef[] {
  const specs = entry.input?.[which];
  if (!specs) return [];
  const order = entry.input_order?.[which] ?? Object.keys(specs);
  return order.filter((n) => Object.hasOwn(specs, n)).map((n) => readInput(n, specs[n]!, which === 'optional'));
}

export function readNodeSpec(entry: ObjectInfoEntry): NodeSpec {
  return {
    type: entry.name,
    displayName: entry.display_name || entry.name,
    category: entry.category || 'other',
    description: entry.description ?? '',
    outputNode: entry.output_node === true,
    inputs: [...readSection(entry, 'required'), ...readSection(entry, 'optional')],
    outputs: entry.output.map((type, i) => ({
      name: entry.output_name?.[i] ?? type,
      type: Array.isArray(type) ? 'COMBO' : String(type),
      isList: entry.output_is_list?.[i] === true,
    })),
  };
}

export function readNodeSpecs(info: ObjectInfo): Map<string, NodeSpec> {
  const out = new Map<string, NodeSpec>();
  for (const [type, entry] of Object.entries(info)) out.set(type, readNodeSpec({ ...entry, name: entry.name || type }));
  return out;
}

/** True when the input is drawn as an editable widget (not a plain socket). */
export function hasWidget(def: InputDef): boolean {
  return def.widget !== undefined && !def.forceInput;
}

export function inputDef(spec: NodeSpec | undefined, name: string): InputDef | undefined {
  return spec?.inputs.find((i) => i.name === name);
}
