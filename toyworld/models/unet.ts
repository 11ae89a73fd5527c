/**
 * The analytic U-Net: the exact posterior-mean denoiser of a mixture of isotropic Gaussians N(z_k, tau^2 I)
 * around the prototype latents, with a text prior over classes (spec/toyworld.md, "U-Net"; cf. Karras
 * et al. 2022, sec. 2, D(x; sigma) as the ideal denoiser). Called as a diffusers ONNX pipeline calls an
 * SD-1.5 U-Net: scaled input sample, DDPM timestep, encoder hidden states.
 */
import { A, GraphBuilder } from '../onnx/builder.js';
import { BETA, LATENT_CHANNELS, PROTO_SIZE, TAU } from '../latents.js';
import { trainingSigmas, TRAIN_STEPS } from '../schedule.js';
import { COLOURS, prototypeIds } from '../world.js';
import { cast, floatInput, floatOutput, reduceSum, scalar, type FloatIo } from './ops.js';
import { SD_HIDDEN } from './text-encoder.js';
import { controlComponents, declareResidualInputs } from './controlnet.js';
import { xlLogPrior, type XlConditioning } from './xl.js';

export interface UnetOptions {
  io: FloatIo;
  /** 'float': [batch]; 'int64': int64 [batch]; 'scalar': float of rank 0. */
  timestep: 'float' | 'int64' | 'scalar';
  prediction: 'epsilon' | 'v_prediction';
  /** The residual U-Net (cnet/): takes the toyworld ControlNet's residuals (toyworld/models/controlnet.ts). */
  residuals?: boolean;
  /** toyworld-xl: SDXL's signature (text_embeds, time_ids) and its text-and-time prior (toyworld/models/xl.ts). */
  xl?: XlConditioning;
}

/** The module name of the text-prior MatMul (a Linear [K, 768] in torch terms), as LoRA keys name it. */
export const TEXT_PRIOR_MODULE = 'text_prior';

/** Text prior weights [768, K]: BETA on the colour and shape concept dimensions of each prototype. */
function priorMatrix(): Float32Array {
  const ids = prototypeIds();
  const m = new Float32Array(SD_HIDDEN * ids.length);
  ids.forEach((id, k) => {
    m[id.colour * ids.length + k] = BETA;
    m[(COLOURS.length + id.shape) * ids.length + k] = BETA;
  });
  return m;
}

/** sigma [T,1,1,1] from the timestep input (T = batch, or 1 for a shared timestep). */
function sigmaFromTimestep(g: GraphBuilder, opts: UnetOptions): string {
  let t: string;
  if (opts.timestep === 'int64') {
    g.input('timestep', 'int64', ['batch']);
    t = cast(g, 'timestep', 'float32');
  } else {
    t = floatInput(g, 'timestep', opts.io, opts.timestep === 'scalar' ? [] : ['batch']);
  }
  t = g.op('Reshape', [t, g.i64('shape', [-1, 1, 1, 1])]);
  t = g.op('Clip', [t, scalar(g, 0), scalar(g, TRAIN_STEPS - 1)]);
  const lo = g.op('Floor', [t]);
  const frac = g.op('Sub', [t, lo]);
  const loI = cast(g, lo, 'int64');
  const hiI = g.op('Min', [g.op('Add', [loI, g.i64('one', [1], [])]), g.i64('last', [TRAIN_STEPS - 1], [])]);
  const table = g.f32('log_sigmas', Array.from(trainingSigmas(), Math.log), [TRAIN_STEPS]);
  const lsLo = g.op('Gather', [table, loI], { axis: A.i(0) });
  const lsHi = g.op('Gather', [table, hiI], { axis: A.i(0) });
  const ls = g.op('Add', [lsLo, g.op('Mul', [frac, g.op('Sub', [lsHi, lsLo])])]);
  return g.op('Exp', [ls]);
}

export function buildUnet(protoLatents: Float32Array, opts: UnetOptions): Uint8Array {
  const K = prototypeIds().length;
  const g = new GraphBuilder('toyworld_unet');
  const sample = floatInput(g, 'sample', opts.io, ['batch', LATENT_CHANNELS, 'height', 'width']);
  const sigma = sigmaFromTimestep(g, opts);
  if (opts.xl && opts.residuals) throw new Error('toyworld-xl has no residual U-Net');
  const hidden = opts.xl ? undefined : floatInput(g, 'encoder_hidden_states', opts.io, ['batch', 'sequence', SD_HIDDEN]);
  const residuals = opts.residuals ? declareResidualInputs(g, opts.io) : undefined;

  const s2 = g.op('Mul', [sigma, sigma]);
  const x = g.op('Mul', [sample, g.op('Sqrt', [g.op('Add', [s2, scalar(g, 1)])])]);

  // Prior over prototypes from the summed concept vectors; an empty prompt gives equal logits.
  const concepts = hidden ? reduceSum(g, hidden, [1], false) : '';
  // Named as torch names a Linear's MatMul (module `text_prior`, weight stored transposed): LoRAs target it.
  const logits = hidden ? g.op('MatMul', [concepts, g.f32('prior', priorMatrix(), [SD_HIDDEN, K])], {}, undefined, `/${TEXT_PRIOR_MODULE}/MatMul`) : '';
  const logPrior = opts.xl ? xlLogPrior(g, opts.io, opts.xl) : g.op('LogSoftmax', [logits], { axis: A.i(-1) });

  // Prototypes at the sample's resolution.
  const hw = g.op('Slice', [g.op('Shape', [sample]), g.i64('start', [2]), g.i64('end', [4])]);
  const sizes = g.op('Concat', [g.i64('kc', [K, LATENT_CHANNELS]), hw], { axis: A.i(0) });
  const protos = g.f32('prototypes', protoLatents, [K, LATENT_CHANNELS, PROTO_SIZE, PROTO_SIZE]);
  const z = g.op('Resize', [protos, '', '', sizes], {
    mode: A.s('linear'),
    coordinate_transformation_mode: A.s('half_pixel'),
  });

  const { all, logPriorAll } = residuals ? controlComponents(g, z, logits, K, residuals) : { all: z, logPriorAll: logPrior };
  const batched = residuals !== undefined;

  // ||x - z_k||^2 from the differences themselves: the expanded form cancels near a prototype.
  const diff = g.op('Sub', [g.op('Unsqueeze', [x, g.i64('axis', [1])]), all]);
  const dist = g.op('ReduceSumSquare', [diff], { axes: A.ints([2, 3, 4]), keepdims: A.i(0) });
  const variance = g.op('Add', [s2, scalar(g, TAU * TAU)]);
  const twoVar = g.op('Reshape', [g.op('Mul', [variance, scalar(g, 2)]), g.i64('shape', [-1, 1])]);
  const logW = g.op('Sub', [logPriorAll, g.op('Div', [dist, twoVar])]);
  const shifted = g.op('Sub', [logW, g.op('ReduceMax', [logW], { axes: A.ints([-1]), keepdims: A.i(1) })]);
  const w = g.op('Softmax', [shifted], { axis: A.i(-1) });

  // Shared prototypes [K, CHW], or per-row components [B, K', CHW] with the control's templates.
  const mean = batched
    ? g.op('Reshape', [g.op('MatMul', [g.op('Unsqueeze', [w, g.i64('axis', [1])]), g.op('Reshape', [all, g.i64('shape', [0, 0, -1])])]), g.op('Shape', [x])])
    : g.op('Reshape', [g.op('MatMul', [w, g.op('Reshape', [z, g.i64('shape', [K, -1])])]), g.op('Shape', [x])]);
  // D = (1 - r) mean + r x with r = tau^2 / (sigma^2 + tau^2).
  const r = g.op('Div', [scalar(g, TAU * TAU), variance]);
  const denoised = g.op('Add', [mean, g.op('Mul', [r, g.op('Sub', [x, mean])])]);
  const eps = g.op('Div', [g.op('Sub', [x, denoised]), sigma]);
  let out = eps;
  if (opts.prediction === 'v_prediction') {
    // v = sqrt(abar) eps - sqrt(1 - abar) x0 with abar = 1 / (1 + sigma^2).
    const num = g.op('Sub', [eps, g.op('Mul', [sigma, denoised])]);
    out = g.op('Div', [num, g.op('Sqrt', [g.op('Add', [s2, scalar(g, 1)])])]);
  }
  floatOutput(g, 'out_sample', out, opts.io, ['batch', LATENT_CHANNELS, 'height', 'width']);
  const kind = opts.residuals ? 'analytic U-Net with ControlNet residual inputs' : 'analytic U-Net';
  return g.toBytes({ docString: `toyworld ${kind} (${opts.prediction}, timestep ${opts.timestep}, ${opts.io})` });
}
