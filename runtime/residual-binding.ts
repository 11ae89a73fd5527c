/**
 * How ControlNet residuals meet ONNX signatures. The exporters name the residual U-Net's extra inputs
 * differently (onnx-web `convert/diffusion/control.py`: `down_block_0..N-1` + `mid_block_additional_residual`;
 * OnnxStack `ControlNetDiffuser.cs`: `down_block_{i}_additional_residual`; others
 * `down_block_additional_residual_{i}`), and a ControlNet names its outputs in its own way: both are bound
 * by the names known here, else by declared order, and the binding says which rule it used.
 */
import type { IoMeta } from './io-meta.js';

/** Thrown when a residual U-Net's or a ControlNet's signature cannot be bound, or the two do not fit. */
export class ResidualBindingError extends Error {
  override readonly name = 'ResidualBindingError';
}

/** Which naming rule bound the residuals. */
export type ResidualScheme = 'onnx-web' | 'onnxstack' | 'indexed' | 'order';

export interface ResidualBinding {
  /** Names of the down-block residuals, in down-block order. */
  readonly down: readonly string[];
  /** Name of the mid-block residual. */
  readonly mid: string;
  readonly scheme: ResidualScheme;
}

/** Inputs every diffusers U-Net export may declare besides residuals (SDXL's, LCM's). */
const UNET_INPUTS = new Set(['sample', 'timestep', 'encoder_hidden_states', 'text_embeds', 'time_ids', 'timestep_cond']);
const MID_NAMES = ['mid_block_additional_residual', 'mid_block_res_sample', 'mid_block_residual'];

const DOWN_PATTERNS: readonly (readonly [ResidualScheme, RegExp])[] = [
  ['onnx-web', /^down_block_(\d+)$/],
  ['onnxstack', /^down_block_(\d+)_additional_residual$/],
  ['indexed', /^down_block_additional_residual_(\d+)$/],
  ['indexed', /^down_block_res_samples?_(\d+)$/],
];

/** Down names matched by one pattern, indexed 0..n-1 without gaps, or undefined. */
function byPattern(names: readonly string[], re: RegExp): string[] | undefined {
  const hits = new Map<number, string>();
  for (const n of names) {
    const m = re.exec(n);
    if (m) hits.set(Number(m[1]), n);
  }
  if (hits.size === 0 || hits.size !== names.length) return undefined;
  const out: string[] = [];
  for (let i = 0; i < hits.size; i++) {
    const n = hits.get(i);
    if (n === undefined) return undefined;
    out.push(n);
  }
  return out;
}

/** A residual must be a 4-D float tensor [B, C, h, w]. */
function checkRank(metas: readonly IoMeta[], what: string): void {
  const bad = metas.filter((m) => m.shapeKnown && m.shape.length !== 4);
  if (bad.length > 0) throw new ResidualBindingError(`${what}: ${bad.map((m) => `'${m.name}' has rank ${m.shape.length}`).join(', ')}; residuals are [batch, channels, h, w]`);
}

function bind(metas: readonly IoMeta[], what: string): ResidualBinding {
  if (metas.length < 2) throw new ResidualBindingError(`${what} declares ${metas.length} residual(s); a ControlNet needs down-block residuals and a mid-block one`);
  checkRank(metas, what);
  const names = metas.map((m) => m.name);
  const mid = names.find((n) => MID_NAMES.includes(n)) ?? names.find((n) => /mid/i.test(n));
  if (mid !== undefined) {
    const downs = names.filter((n) => n !== mid);
    for (const [scheme, re] of DOWN_PATTERNS) {
      const down = byPattern(downs, re);
      if (down) return { down, mid, scheme };
    }
  }
  // Unknown names: declared order, the mid residual last unless one is named so.
  const m = mid ?? names[names.length - 1];
  return { down: names.filter((n) => n !== m), mid: m, scheme: 'order' };
}

/** The residual inputs of a U-Net, or undefined when it declares none (a plain U-Net). */
export function bindUNetResiduals(inputs: readonly IoMeta[]): ResidualBinding | undefined {
  const extra = inputs.filter((m) => !UNET_INPUTS.has(m.name));
  if (extra.length === 0) return undefined;
  return bind(extra, 'the residual U-Net');
}

/** The residual outputs of a ControlNet (every output is one). */
export function bindControlNetOutputs(outputs: readonly IoMeta[]): ResidualBinding {
  return bind(outputs, 'the ControlNet');
}

/** One line for `models list/verify`: `onnx-web names (6 down + mid)`. */
export function describeBinding(b: ResidualBinding): string {
  const rule = b.scheme === 'order' ? 'bound by declared order' : `${b.scheme} names`;
  return `${rule} (${b.down.length} down + mid: ${b.down[0]}..${b.down[b.down.length - 1]}, ${b.mid})`;
}

/** The numeric channel count of a residual [B, C, h, w], when declared. */
function channels(m: IoMeta | undefined): number | undefined {
  const c = m?.shapeKnown ? m.shape[1] : undefined;
  return typeof c === 'number' ? c : undefined;
}

/**
 * Checks that a ControlNet's residuals fit a residual U-Net: the same number of down residuals, and
 * equal channel counts where both declare them. Returns the problems (empty when they fit).
 */
export function residualMismatches(cn: ResidualBinding, cnOutputs: readonly IoMeta[], unet: ResidualBinding, unetInputs: readonly IoMeta[]): string[] {
  const problems: string[] = [];
  if (cn.down.length !== unet.down.length) {
    problems.push(`the ControlNet gives ${cn.down.length} down-block residuals but the U-Net takes ${unet.down.length}`);
    return problems;
  }
  const out = (n: string) => cnOutputs.find((m) => m.name === n);
  const inp = (n: string) => unetInputs.find((m) => m.name === n);
  const pairs: [string, string][] = [...cn.down.map((d, i): [string, string] => [d, unet.down[i]!]), [cn.mid, unet.mid]];
  for (const [o, i] of pairs) {
    const a = channels(out(o));
    const b = channels(inp(i));
    if (a !== undefined && b !== undefined && a !== b) problems.push(`ControlNet output '${o}' has ${a} channels but U-Net input '${i}' takes ${b}`);
  }
  return problems;
}
