import type { InputSpec } from '../inputs.js';
import type { ValidationIssue } from './types.js';

type Coerced = { ok: true; value: unknown } | { ok: false; issue: ValidationIssue };

function describe(v: unknown): string {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'string') return v.length > 80 ? `${v.slice(0, 77)}...` : v;
  try {
    const s = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
    return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
  } catch {
    return String(v);
  }
}

function fail(type: ValidationIssue['type'], message: string, name: string, spec: InputSpec, value: unknown, details?: string): Coerced {
  return {
    ok: false,
    issue: {
      type,
      message,
      details: details ?? `${name}`,
      extra_info: { input_name: name, input_config: [spec.socket, spec.info], received_value: typeof value === 'bigint' ? value.toString() : value },
    },
  };
}

function lt(a: number | bigint, b: number | bigint): boolean {
  return typeof a === typeof b ? a < b : Number(a) < Number(b);
}

function toInteger(v: unknown, big: boolean): number | bigint | undefined {
  if (typeof v === 'bigint') return big ? v : Number(v);
  if (typeof v === 'number' && Number.isFinite(v)) {
    const t = Math.trunc(v); // NOTE: ComfyUI converts with Python's int(), which truncates toward zero.
    return big ? BigInt(t) : t;
  }
  if (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v)) return big ? BigInt(v.trim()) : Number(v.trim());
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return toInteger(Number(v), big);
  if (typeof v === 'boolean') return big ? BigInt(v ? 1 : 0) : v ? 1 : 0;
  return undefined;
}

function rangeChecks(name: string, spec: InputSpec, value: number | bigint): Coerced {
  const min = spec.info.min;
  const max = spec.info.max;
  if ((typeof min === 'number' || typeof min === 'bigint') && lt(value, min)) {
    return fail('value_smaller_than_min', `Value ${describe(value)} smaller than min of ${describe(min)}`, name, spec, value);
  }
  if ((typeof max === 'number' || typeof max === 'bigint') && lt(max, value)) {
    return fail('value_bigger_than_max', `Value ${describe(value)} bigger than max of ${describe(max)}`, name, spec, value);
  }
  return { ok: true, value };
}

/** Converts a widget's constant to its declared kind as ComfyUI does, then checks ranges and choices. */
export function coerceConstant(name: string, spec: InputSpec, raw: unknown, comboChoices: () => readonly string[]): Coerced {
  switch (spec.kind) {
    case 'INT': {
      const big = typeof spec.info.max === 'bigint';
      const v = toInteger(raw, big);
      if (v === undefined) return fail('invalid_input_type', 'Failed to convert an input value to a INT value', name, spec, raw, `${name}, ${describe(raw)}`);
      return rangeChecks(name, spec, v);
    }
    case 'FLOAT': {
      let v: number | undefined;
      if (typeof raw === 'number') v = raw;
      else if (typeof raw === 'bigint') v = Number(raw);
      else if (typeof raw === 'string' && raw.trim() !== '' && Number.isFinite(Number(raw))) v = Number(raw);
      else if (typeof raw === 'boolean') v = raw ? 1 : 0;
      if (v === undefined || Number.isNaN(v)) {
        return fail('invalid_input_type', 'Failed to convert an input value to a FLOAT value', name, spec, raw, `${name}, ${describe(raw)}`);
      }
      return rangeChecks(name, spec, v);
    }
    case 'STRING': {
      if (typeof raw === 'string') return { ok: true, value: raw };
      if (typeof raw === 'number' || typeof raw === 'bigint' || typeof raw === 'boolean') return { ok: true, value: String(raw) };
      return fail('invalid_input_type', 'Failed to convert an input value to a STRING value', name, spec, raw, `${name}, ${describe(raw)}`);
    }
    case 'BOOLEAN': {
      if (typeof raw === 'boolean') return { ok: true, value: raw };
      if (raw === 0 || raw === 1) return { ok: true, value: raw === 1 };
      if (raw === 'true' || raw === 'false') return { ok: true, value: raw === 'true' };
      return fail('invalid_input_type', 'Failed to convert an input value to a BOOLEAN value', name, spec, raw, `${name}, ${describe(raw)}`);
    }
    case 'COMBO': {
      const choices = comboChoices();
      const v = typeof raw === 'number' || typeof raw === 'bigint' ? String(raw) : raw;
      if (typeof v !== 'string' || !choices.includes(v)) {
        const shown = choices.length > 20 ? `[${choices.slice(0, 20).map((c) => `'${c}'`).join(', ')}, ...]` : `[${choices.map((c) => `'${c}'`).join(', ')}]`;
        return fail('value_not_in_list', 'Value not in list', name, spec, raw, `${name}: '${describe(raw)}' not in ${shown}`);
      }
      return { ok: true, value: v };
    }
    case 'link':
      return fail('required_input_missing', 'Required input is missing', name, spec, raw, `${name} must be linked from a ${spec.socket} output`);
  }
}
