/**
 * What an upscale model's ONNX signature says before anything runs: one float image input [b,3,H,W], one
 * float image output [b,3,H',W'], and whatever the export fixed (batch, sizes). ESRGAN / Real-ESRGAN /
 * SwinIR exports (torch.onnx.export with `input` / `output`) all have this shape.
 */
import type { Dim, IoMeta } from '../../runtime/io-meta.js';
import { UpscaleModelError } from './errors.js';

export interface UpscaleSignature {
  readonly file: string;
  readonly input: string;
  readonly output: string;
  /** Element types as declared (float16 exports are fed and read back through the runtime's conversion). */
  readonly inputType: string;
  readonly outputType: string;
  /** Spatial sizes the export fixed (static dims), if any. */
  readonly fixedH?: number;
  readonly fixedW?: number;
  /** The scale from static input and output sizes, when both are fixed. */
  readonly staticScale?: number;
  /**
   * The scale a symbolic output dim spells out relative to the input dim (`height` -> `height_x4` or
   * `4*height`): a hint for shape previews only; running reads the graph or probes.
   */
  readonly hintScale?: number;
}

const FLOAT_TYPES = new Set(['float32', 'float16']);

function describe(m: IoMeta): string {
  return `${m.name} ${m.dtype}${m.shapeKnown ? `[${m.shape.join(',')}]` : '[?]'}`;
}

function refuse(file: string, why: string, inputs: readonly IoMeta[], outputs: readonly IoMeta[]): UpscaleModelError {
  return new UpscaleModelError(
    `${file} is not an image-to-image model: ${why} (inputs: ${inputs.map(describe).join(', ') || 'none'}; ` +
      `outputs: ${outputs.map(describe).join(', ') || 'none'}); an upscale model takes float [batch,3,H,W] and returns [batch,3,H*s,W*s]`,
  );
}

const num = (d: Dim | undefined): number | undefined => (typeof d === 'number' && d > 0 ? d : undefined);

/** `height_x4`, `height*4`, `4*height` for an input dim named `height`. */
function hintOf(inDim: Dim | undefined, outDim: Dim | undefined): number | undefined {
  if (typeof inDim !== 'string' || typeof outDim !== 'string' || inDim === '?' || inDim === '') return undefined;
  const esc = inDim.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`^(?:${esc}_x(\\d+)|${esc}\\*(\\d+)|(\\d+)\\*${esc})$`).exec(outDim);
  const s = m ? Number(m[1] ?? m[2] ?? m[3]) : NaN;
  return Number.isInteger(s) && s > 0 ? s : undefined;
}

/** Checks the declared signature; throws UpscaleModelError naming every input and output when it cannot be an upscaler. */
export function readSignature(file: string, inputs: readonly IoMeta[], outputs: readonly IoMeta[]): UpscaleSignature {
  const no = (why: string) => refuse(file, why, inputs, outputs);
  if (inputs.length !== 1) throw no(`it takes ${inputs.length} inputs`);
  const input = inputs[0]!;
  const output = outputs.find((o) => o.name === 'output') ?? outputs[0];
  if (!output) throw no('it has no output');
  for (const m of [input, output]) {
    if (!FLOAT_TYPES.has(m.dtype)) throw no(`${m.name} is ${m.dtype}, not float32 or float16`);
    if (m.shapeKnown && m.shape.length !== 4) throw no(`${m.name} has rank ${m.shape.length}, not 4`);
    const c = m.shapeKnown ? m.shape[1] : undefined;
    if (typeof c === 'number' && c !== 3) throw no(`${m.name} has ${c} channel(s), not 3 (RGB)`);
  }
  const batch = input.shapeKnown ? num(input.shape[0]) : undefined;
  if (batch !== undefined && batch !== 1) throw no(`its input has a fixed batch of ${batch}`);
  const fixedH = input.shapeKnown ? num(input.shape[2]) : undefined;
  const fixedW = input.shapeKnown ? num(input.shape[3]) : undefined;
  const outH = output.shapeKnown ? num(output.shape[2]) : undefined;
  const outW = output.shapeKnown ? num(output.shape[3]) : undefined;
  let staticScale: number | undefined;
  if (fixedH !== undefined && fixedW !== undefined && outH !== undefined && outW !== undefined) {
    if (outH * fixedW !== outW * fixedH) throw no(`it scales ${fixedW}x${fixedH} to ${outW}x${outH}, unevenly`);
    staticScale = outH / fixedH;
  }
  const hy = hintOf(input.shape[2], output.shape[2]);
  const hx = hintOf(input.shape[3], output.shape[3]);
  return {
    file, input: input.name, output: output.name, inputType: input.dtype, outputType: output.dtype,
    fixedH, fixedW, staticScale, hintScale: hy !== undefined && hy === hx ? hy : undefined,
  };
}
