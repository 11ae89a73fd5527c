/**
 * The one module that imports onnxruntime-node. It runs inside inference workers (and in benchmarks
 * that contrast main-thread inference); everything else talks to sessions through session-client.
 */
import * as ort from 'onnxruntime-node';
import { InferenceError, ModelLoadError, feedReport } from './errors.js';
import { adaptFeeds, fromSessionOutput, planOutputs } from './feeds.js';
import type { AnyTensor, Dim, FeedMap, IoMeta, TensorMap } from './io-meta.js';
import { narrowFeeds, toElementType } from './io-meta.js';
import { inspectModelFile } from './model-file.js';
import type { SessionOptions } from './onnx-session-options.js';
import { DEFAULT_INTRA_OP_THREADS } from './onnx-session-options.js';

function ortOptions(o: SessionOptions): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: ['cpu'],
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
    /** Memory estimate: model file plus external data. */
    readonly bytes: number,
  ) {}

  static async create(modelPath: string, options: SessionOptions = {}): Promise<OnnxSession> {
    const info = inspectModelFile(modelPath);
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(modelPath, ortOptions(options));
    } catch (e) {
      throw new ModelLoadError(`onnxruntime cannot load ${modelPath}: ${e instanceof Error ? e.message : String(e)}`);
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
    return new OnnxSession(session, modelPath, inputs, outputs, info.bytes);
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

  async release(): Promise<void> {
    await this.session.release();
  }
}
