/**
 * The one module that imports onnxruntime-node. It runs inside inference workers (and in benchmarks
 * that contrast main-thread inference); everything else talks to sessions through session-client.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { InferenceError, ModelLoadError, SafetensorsError, feedReport } from './errors.js';
import { adaptFeeds, fromSessionOutput, planOutputs } from './feeds.js';
import type { AnyTensor, Dim, FeedMap, IoMeta, TensorMap } from './io-meta.js';
import { narrowFeeds, toElementType } from './io-meta.js';
import { readFileSync } from 'node:fs';
import { inspectModelFile } from './model-file.js';
import { readWeightIndex } from './onnx-weights.js';
import { PATCH_FILE_NAME, externalFiles, patchedModelBytes } from './patched-model.js';
import { zeroedRandomNodes } from './in-graph-sampling.js';
import type { WeightPatch } from './weight-patch.js';
import { WeightPatchError, computePatch, isEmptyPatch } from './weight-patch.js';
import type { SessionOptions } from './onnx-session-options.js';
import { DEFAULT_INTRA_OP_THREADS } from './onnx-session-options.js';
import {
  CPU, DeviceDtypeError, DeviceUnavailableError, formatDevice, installHint, platformProblem, providerConfig, type Device, type DeviceCapabilities,
} from './devices.js';
import { PROBE_INPUT, PROBE_OUTPUT, probeModelBytes } from './probe-model.js';

function ortOptions(o: SessionOptions): ort.InferenceSession.SessionOptions {
  return {
    // onnxruntime places operators the provider lacks on its CPU provider by itself (no entry needed).
    executionProviders: [providerConfig(o.device ?? CPU)],
    intraOpNumThreads: o.intraOpNumThreads ?? DEFAULT_INTRA_OP_THREADS,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: o.graphOptimizationLevel ?? 'all',
    freeDimensionOverrides: o.freeDimensionOverrides,
    logSeverityLevel: 3,
    // NOTE: spinning pool threads would steal the core the main thread needs between runs.
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}

/**
 * Creates a session from rewritten model bytes: initializers carrying `patch` (see weight-patch.ts and
 * patched-model.ts) and, with `zeroRandom`, in-graph normal sampling giving zeros (in-graph-sampling.ts).
 */
async function createPatched(modelPath: string, o: SessionOptions, patch: WeightPatch | undefined, zeroRandom: boolean): Promise<{ session: ort.InferenceSession; buffer: ArrayBuffer }> {
  const index = readWeightIndex(modelPath);
  const { buffer, tensors } = patch ? computePatch(index, patch) : { buffer: new ArrayBuffer(0), tensors: [] };
  const bytes = patchedModelBytes(index, tensors, zeroRandom ? (win) => zeroedRandomNodes(index.graphFields, win) : undefined);
  const files = [...externalFiles(index, tensors)].map(([location, file]) => ({ path: location, data: readFileSync(file) }));
  const session = await ort.InferenceSession.create(bytes, {
    ...ortOptions(o),
    externalData: [...(tensors.length > 0 ? [{ path: PATCH_FILE_NAME, data: new Uint8Array(buffer) }] : []), ...files],
  });
  return { session, buffer };
}

function metaFromOrt(m: ort.InferenceSession.ValueMetadata, declared: readonly IoMeta[]): IoMeta {
  const fromFile = declared.find((d) => d.name === m.name);
  if (!m.isTensor) return { name: m.name, dtype: 'unknown', shape: [], shapeKnown: false };
  const shape: Dim[] = m.shape.map((d) => (d === '' ? '?' : d));
  // onnxruntime reports [] both for scalars and for undeclared shapes; the file tells them apart.
  const shapeKnown = shape.length > 0 || (fromFile?.shapeKnown ?? true);
  return { name: m.name, dtype: toElementType(m.type), shape, shapeKnown };
}

function hasMetadata(s: ort.InferenceSession): boolean {
  return 'inputMetadata' in s && Array.isArray(s.inputMetadata) && Array.isArray(s.outputMetadata);
}

function toOrt(t: AnyTensor): ort.Tensor {
  return new ort.Tensor(t.dtype, t.data, t.shape);
}

/** An onnxruntime session with feeds adapted to its declared inputs and outputs returned as float32. */
export class OnnxSession {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly path: string,
    readonly inputs: readonly IoMeta[],
    readonly outputs: readonly IoMeta[],
    /** Memory estimate: model file plus external data (plus patched weights). */
    readonly bytes: number,
    /** Patched weights onnxruntime was given as in-memory external data; held as long as the session. */
    private readonly patchBuffer?: ArrayBuffer,
  ) {}

  /** A session of `modelPath`, with `patch` applied to its initializers when one is given. */
  static async create(modelPath: string, options: SessionOptions = {}, patch?: WeightPatch): Promise<OnnxSession> {
    const info = inspectModelFile(modelPath);
    if (info.usesFloat16 && options.device && options.deviceFloat16 === false) {
      throw new DeviceDtypeError(
        `${modelPath} computes in float16, which device ${formatDevice(options.device)} cannot run here (its adapter lacks float16 shaders, as SwiftShader does); `
        + 'use a float32 export, --device cpu or --device auto (which runs such models on the CPU), or CLIPLoader\'s device "cpu" for a text encoder',
      );
    }
    let session: ort.InferenceSession;
    let buffer: ArrayBuffer | undefined;
    try {
      const patched = patch && !isEmptyPatch(patch) ? patch : undefined;
      const zeroRandom = info.randomNodes.some((n) => n.zeroed);
      if (patched || zeroRandom) ({ session, buffer } = await createPatched(modelPath, options, patched, zeroRandom));
      else session = await ort.InferenceSession.create(modelPath, ortOptions(options));
    } catch (e) {
      if (e instanceof WeightPatchError || e instanceof SafetensorsError || e instanceof ModelLoadError) throw e;
      const on = options.device && options.device.kind !== 'cpu' ? ` on ${formatDevice(options.device)}` : '';
      throw new ModelLoadError(`onnxruntime cannot load ${modelPath}${on}: ${e instanceof Error ? e.message : String(e)}`);
    }
    let inputs: IoMeta[];
    let outputs: IoMeta[];
    if (hasMetadata(session)) {
      inputs = session.inputMetadata.map((m) => metaFromOrt(m, info.inputs));
      outputs = session.outputMetadata.map((m) => metaFromOrt(m, info.outputs));
    } else {
      const pick = (names: readonly string[], declared: readonly IoMeta[]): IoMeta[] =>
        names.map((n) => declared.find((d) => d.name === n) ?? { name: n, dtype: 'unknown', shape: [], shapeKnown: false });
      inputs = pick(session.inputNames, info.inputs);
      outputs = pick(session.outputNames, info.outputs);
    }
    return new OnnxSession(session, modelPath, inputs, outputs, info.bytes + (buffer?.byteLength ?? 0), buffer);
  }

  /**
   * Runs with adapted feeds. `outputs` lists alias groups (e.g. [['out_sample', 'latent']]); results
   * are keyed by each group's first name. Without it every output comes back under its own name.
   */
  async run(feeds: FeedMap, outputs?: readonly (readonly string[])[]): Promise<TensorMap> {
    const adapted = adaptFeeds(this.inputs, narrowFeeds(feeds));
    const plan = planOutputs(this.outputs, outputs);
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(adapted)) ortFeeds[name] = toOrt(t);
    let result: ort.InferenceSession.ReturnType;
    try {
      result = await this.session.run(ortFeeds, [...plan.fetch]);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new InferenceError(`onnxruntime failed running ${this.path}: ${why}\n${feedReport(this.inputs, adapted)}`);
    }
    const out: TensorMap = {};
    plan.fetch.forEach((name, i) => {
      const t = result[name];
      out[plan.keys[i]] = fromSessionOutput(toElementType(t.type), t.data, t.dims);
    });
    return out;
  }

  /** Bytes of patched weights this session holds (0 for an unpatched one). */
  get patchedBytes(): number {
    return this.patchBuffer?.byteLength ?? 0;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/**
 * The CUDA provider is a shared library next to onnxruntime-node's binding, present only when the package
 * was installed with the cuda12 flag. Looking first spares the user onnxruntime's own loader error.
 */
function missingCudaProvider(): string | undefined {
  const binding = createRequire(import.meta.url).resolve('onnxruntime-node');
  const dir = path.join(path.dirname(binding), '..', 'bin', 'napi-v6', process.platform, process.arch);
  const lib = path.join(dir, 'libonnxruntime_providers_cuda.so');
  return existsSync(lib) ? undefined : `onnxruntime-node was installed without its CUDA provider (no ${lib})`;
}

async function runProbe(device: Device, float16: boolean): Promise<void> {
  let session: ort.InferenceSession | undefined;
  try {
    // NOTE: fatal-only logging: a failing probe is an expected answer, reported by its exception.
    session = await ort.InferenceSession.create(probeModelBytes(float16), { ...ortOptions({ device, intraOpNumThreads: 1 }), graphOptimizationLevel: 'disabled', logSeverityLevel: 4 });
    const x = new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4]), [1, 4]);
    const y = (await session.run({ [PROBE_INPUT]: x }))[PROBE_OUTPUT];
    const got = Array.from(y.data as Float32Array);
    if (got.join() !== '2,4,6,8') throw new Error(`the probe computed [${got.join(', ')}] instead of [2, 4, 6, 8]`);
  } finally {
    await session?.release();
  }
}

/**
 * Proves a device can run: a session of the probe model (y = x + x) on it, one run, values checked; then
 * the same in float16, to learn whether float16 models can run there. Throws DeviceUnavailableError
 * saying why and how to get the provider.
 */
export async function probeDevice(device: Device): Promise<DeviceCapabilities> {
  const name = formatDevice(device);
  const impossible = platformProblem(device.kind);
  if (impossible) throw new DeviceUnavailableError(`device ${name} is not available: ${impossible}`);
  const missing = device.kind === 'cuda' ? missingCudaProvider() : undefined;
  if (missing) throw new DeviceUnavailableError(`device ${name} is not usable: ${missing}\nTo get it: ${installHint('cuda')}`);
  try {
    await runProbe(device, false);
  } catch (e) {
    const why = (e instanceof Error ? e.message : String(e)).trim();
    throw new DeviceUnavailableError(`device ${name} is not usable: ${why}\nTo get it: ${installHint(device.kind)}`);
  }
  const float16 = await runProbe(device, true).then(() => true, () => false);
  return { float16 };
}

/**
 * Creates (and releases) a session with onnxruntime's verbose log on, which prints where every node was
 * placed ("Node placements", session_state.cc). The log goes to this process's stderr, so callers run it
 * in a child process and read it there (node-placement.ts).
 */
export async function logNodePlacements(modelPath: string, device: Device): Promise<void> {
  const session = await ort.InferenceSession.create(modelPath, { ...ortOptions({ device, intraOpNumThreads: 1 }), logSeverityLevel: 0, logVerbosityLevel: 0 });
  await session.release();
}
