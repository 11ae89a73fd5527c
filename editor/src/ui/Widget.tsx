import { useEffect, useState, type ReactElement } from 'react';
import type { JsonValue } from '../../../engine/json.js';
import { viewUrl } from '../api/client.js';
import type { InputDef } from '../graph/spec.js';
import { SEED_CONTROLS, isSeedControl, type SeedControl } from '../graph/types.js';

export interface WidgetProps {
  readonly nodeId: string;
  readonly def: InputDef;
  readonly value: JsonValue | undefined;
  readonly control?: SeedControl;
  onChange(value: JsonValue): void;
  onControl(mode: SeedControl): void;
  onUpload(file: File): void;
}

const INT_TEXT = /^-?\d+$/;
/** NOTE: sliders only for ranges a pointer can resolve; a seed's 2^64 range gets the number box only. */
const MAX_SLIDER_SPAN = 1e6;

function parseNumber(def: InputDef, text: string): JsonValue | undefined {
  const t = text.trim();
  if (def.widget === 'INT') {
    if (!INT_TEXT.test(t)) return undefined;
    const n = Number(t);
    return Number.isSafeInteger(n) ? n : BigInt(t);
  }
  if (t === '' || Number.isNaN(Number(t))) return undefined;
  return Number(t);
}

function finite(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function NumberWidget({ nodeId, def, value, onChange }: WidgetProps): ReactElement {
  const shown = value === undefined || value === null ? '' : String(value);
  const [text, setText] = useState(shown);
  useEffect(() => setText(shown), [shown]);
  const min = finite(def.options.min);
  const max = finite(def.options.max);
  const step = finite(def.options.step) ?? (def.widget === 'INT' ? 1 : 0.01);
  const slider = min !== undefined && max !== undefined && max - min <= MAX_SLIDER_SPAN;
  return (
    <div className="lf-number">
      <input
        className="nodrag"
        data-testid={`widget-${nodeId}-${def.name}`}
        inputMode="decimal"
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          const v = parseNumber(def, e.target.value);
          if (v !== undefined) onChange(v);
        }}
        onBlur={() => setText(shown)}
      />
      {slider && (
        <input
          type="range"
          className="nodrag lf-slider"
          data-testid={`slider-${nodeId}-${def.name}`}
          min={min}
          max={max}
          step={step}
          value={typeof value === 'number' ? value : Number(value ?? 0)}
          onChange={(e) => onChange(def.widget === 'INT' ? Math.round(Number(e.target.value)) : Number(e.target.value))}
        />
      )}
    </div>
  );
}

function splitName(value: string): { filename: string; subfolder: string } {
  const at = value.lastIndexOf('/');
  return at < 0 ? { filename: value, subfolder: '' } : { filename: value.slice(at + 1), subfolder: value.slice(0, at) };
}

function ComboWidget({ nodeId, def, value, onChange, onUpload }: WidgetProps): ReactElement {
  const current = value === undefined || value === null ? '' : String(value);
  const choices = def.choices.map(String);
  const known = choices.includes(current);
  return (
    <div className="lf-combo">
      <select className="nodrag" data-testid={`widget-${nodeId}-${def.name}`} value={current} onChange={(e) => onChange(e.target.value)}>
        {!known && <option value={current}>{current} (missing)</option>}
        {choices.map((c) => (
          <option key={c} value={c}>
            {c}
          </option>
        ))}
      </select>
      {def.upload && (
        <>
          <label className="lf-upload nodrag">
            upload…
            <input
              type="file"
              accept="image/*"
              data-testid={`upload-${nodeId}-${def.name}`}
              onChange={(e) => {
                const f = e.target.files?.[0];
                if (f) onUpload(f);
                e.target.value = '';
              }}
            />
          </label>
          {current && <img className="lf-upload-preview" data-testid={`upload-preview-${nodeId}-${def.name}`} alt={current} src={viewUrl({ ...splitName(current), type: 'input' })} />}
        </>
      )}
    </div>
  );
}

/** One editable input of a node, chosen by the input's `/object_info` type. */
export function Widget(props: WidgetProps): ReactElement {
  const { nodeId, def, value, control, onChange, onControl } = props;
  const id = `widget-${nodeId}-${def.name}`;
  let field: ReactElement;
  if (def.widget === 'INT' || def.widget === 'FLOAT') field = <NumberWidget {...props} />;
  else if (def.widget === 'COMBO') field = <ComboWidget {...props} />;
  else if (def.widget === 'BOOLEAN') {
    field = <input type="checkbox" className="nodrag" data-testid={id} checked={value === true} onChange={(e) => onChange(e.target.checked)} />;
  } else if (def.options.multiline === true) {
    field = <textarea className="nodrag nowheel" data-testid={id} rows={3} value={typeof value === 'string' ? value : ''} onChange={(e) => onChange(e.target.value)} />;
  } else {
    field = <input className="nodrag" data-testid={id} value={typeof value === 'string' ? value : String(value ?? '')} onChange={(e) => onChange(e.target.value)} />;
  }
  return (
    <>
      {field}
      {def.control && (
        <select
          className="nodrag lf-control"
          data-testid={`control-${nodeId}-${def.name}`}
          title="control after generate"
          value={control ?? 'fixed'}
          onChange={(e) => isSeedControl(e.target.value) && onControl(e.target.value)}
        >
          {SEED_CONTROLS.map((m) => (
            <option key={m} value={m}>
              {m}
            </option>
          ))}
        </select>
      )}
    </>
  );
}
