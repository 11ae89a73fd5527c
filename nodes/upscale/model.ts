/**
 * Opening an upscale model: its signature is checked from the file before any session loads, and its
 * scale is read from the graph's static sizes or, for exports with dynamic sizes, probed once on a small
 * grey input (what spandrel reads from a state dict, an ONNX file only tells by running).
 */
import { inspectModelFile } from '../../runtime/model-file.js';
import { InferenceError, SessionFeedError } from '../../runtime/errors.js';
import { Tensor } from '../../runtime/tensor.js';
import { listFilesWithExtensions } from '../../runtime/model-folders.js';
import { SessionHandle, type DiffusionSession, type SessionSource } from '../../runtime/session-handle.js';
import { readSignature, type UpscaleSignature } from './signature.js';
import { UpscaleModelError } from './errors.js';
import type { UpscaleGeometry, UpscaleModel } from './types.js';

/** `.onnx` files under `dir`, recursively, as relative '/'-separated names (ComfyUI lists subfolders too). */
export function listOnnxFiles(dir: string): string[] {
  return listFilesWithExtensions(dir, ['.onnx']);
}

/** Reads and checks a model file's signature (no session is created). */
export function upscaleSignature(file: string, name: string): UpscaleSignature {
  const info = inspectModelFile(file);
  return readSignature(name, info.inputs, info.outputs);
}

/**
 * Probe sizes by the multiple they test: an odd multiple of m passes only models that accept multiples
 * of m. NOTE: 17 is small enough to cost little on any x4 model and odd, so a model that needs even
 * sizes (pixel-unshuffle Real-ESRGAN x2) fails it and is tried at 18, 20, ...
 */
const PROBES: readonly (readonly [multiple: number, size: number])[] = [[1, 17], [2, 18], [4, 20], [8, 24], [16, 48], [32, 96]];

function probeInput(h: number, w: number): Tensor<'float32'> {
  return new Tensor('float32', new Float32Array(3 * h * w).fill(0.5), [1, 3, h, w]);
}

async function probe(sig: UpscaleSignature, s: DiffusionSession, signal?: AbortSignal): Promise<UpscaleGeometry> {
  const failures: string[] = [];
  const fixed = sig.fixedH !== undefined && sig.fixedW !== undefined;
  for (const [multiple, size] of fixed ? PROBES.slice(0, 1) : PROBES) {
    const h = sig.fixedH ?? size;
    const w = sig.fixedW ?? size;
    let out;
    try {
      out = (await s.run({ [sig.input]: probeInput(h, w) }, { outputs: [[sig.output]], signal }))[sig.output];
    } catch (e) {
      if (!(e instanceof InferenceError || e instanceof SessionFeedError)) throw e;
      failures.push(`${w}x${h}: ${e.message.split('\n')[0]}`);
      continue;
    }
    const shape = out?.shape ?? [];
    if (shape.length !== 4 || shape[1] !== 3) {
      throw new UpscaleModelError(`${sig.file} is not an image-to-image model: a [1,3,${h},${w}] image came back as [${shape.join(',')}]`);
    }
    const scaleH = shape[2]! / h;
    const scaleW = shape[3]! / w;
    if (scaleH !== scaleW || !(scaleH > 0)) {
      throw new UpscaleModelError(`${sig.file} scales a ${w}x${h} image to ${shape[3]}x${shape[2]}, unevenly; an upscale model keeps the aspect ratio`);
    }
    return { scale: scaleH, multipleOf: multiple, fixedH: sig.fixedH, fixedW: sig.fixedW, source: 'probe' };
  }
  throw new UpscaleModelError(`${sig.file} ran on none of the probe sizes: ${failures.join('; ')}`);
}

/** Opens an upscale model file; its session loads on first use. */
export function loadUpscaleModel(file: string, name: string, source: SessionSource): UpscaleModel {
  const signature = upscaleSignature(file, name);
  const session = new SessionHandle(source, file);
  let known: Promise<UpscaleGeometry> | undefined;
  return {
    name,
    session,
    signature,
    geometry(signal?: AbortSignal): Promise<UpscaleGeometry> {
      if (signature.staticScale !== undefined) {
        return Promise.resolve({ scale: signature.staticScale, multipleOf: 1, fixedH: signature.fixedH, fixedW: signature.fixedW, source: 'graph' });
      }
      known ??= session.get().then((s) => probe(signature, s, signal)).catch((e: unknown) => {
        known = undefined;
        throw e;
      });
      return known;
    },
  };
}
