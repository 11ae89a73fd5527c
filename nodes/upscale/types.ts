/** The UPSCALE_MODEL value of the upscale family (ComfyUI comfy_extras/nodes_upscale_model.py). */
import { SessionHandle } from '../../runtime/session-handle.js';
import type { UpscaleSignature } from './signature.js';

/** How a model is run over an image: the scale, and the input sizes it accepts. */
export interface UpscaleGeometry {
  /** Output pixels per input pixel (the same on both axes). */
  readonly scale: number;
  /** Inputs must be a multiple of this on both axes (pixel-unshuffle models: 2 or 4); tiles are padded up to it. */
  readonly multipleOf: number;
  /** Input height and width the export fixed (SwinIR-style exports), or undefined where dynamic. */
  readonly fixedH?: number;
  readonly fixedW?: number;
  /** Where the scale came from: the static dims of the graph, or a probe run on a small input. */
  readonly source: 'graph' | 'probe';
}

/** A loaded upscale model: its file, its declared signature, and (once known) its geometry. */
export interface UpscaleModel {
  readonly name: string;
  readonly session: SessionHandle;
  readonly signature: UpscaleSignature;
  /** The scale and size rules, read from the graph or probed once on a small input (then remembered). */
  geometry(signal?: AbortSignal): Promise<UpscaleGeometry>;
}

export function isUpscaleModel(v: unknown): v is UpscaleModel {
  return (
    typeof v === 'object' && v !== null && 'session' in v && v.session instanceof SessionHandle &&
    'geometry' in v && typeof v.geometry === 'function' && 'name' in v && typeof v.name === 'string'
  );
}
