/**
 * Loading a diffusers-style ONNX pipeline folder (spec/models.md): U-Net, text encoder + tokenizer,
 * VAE encoder/decoder, scheduler config (betas, prediction type) and the VAE's scaling_factor. Sessions
 * open lazily through the model pool; one loaded checkpoint (and so one U-Net batching point) per folder
 * and session source.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { ModelSampling, type SchedulerConfig } from '../../sampling/model-sampling.js';
import { loadClipTokenizer } from '../../tokenizer/index.js';
import { LatentPreviewer, SD15_RGB_PROJECTION, probeProjection } from '../../imaging/latent-preview.js';
import { SessionHandle, type SessionSource } from '../../runtime/session-handle.js';
import { componentModel } from '../../runtime/model-folders.js';
import type { ClipModel, DiffusionModel, VaeModel } from '../../sockets/index.js';
import { UNetQueue } from '../../runtime/batching/unet-queue.js';
import { encodeMean } from './vae-codec.js';

/** Thrown when a checkpoint folder lacks a required part or holds an unreadable config. */
export class CheckpointLoadError extends Error {
  override readonly name = 'CheckpointLoadError';
}

export const DEFAULT_SCALING_FACTOR = 0.18215;
/** NOTE: diffusers' LatentConsistencyModelPipeline default guidance_scale. */
export const LCM_DEFAULT_GUIDANCE = 8.5;

export interface Checkpoint {
  readonly model: DiffusionModel;
  readonly clip: ClipModel;
  readonly vae: VaeModel;
}

function readJsonObject(file: string): Record<string, unknown> | undefined {
  if (!existsSync(file)) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CheckpointLoadError(`${file} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new CheckpointLoadError(`${file} is not a JSON object`);
  return Object.fromEntries(Object.entries(v));
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The fields of scheduler_config.json that ModelSampling reads, type-checked. */
export function schedulerConfigFrom(raw: Record<string, unknown> | undefined): SchedulerConfig {
  if (!raw) return {};
  const betas = raw.trained_betas;
  return {
    _class_name: str(raw._class_name),
    beta_schedule: str(raw.beta_schedule),
    beta_start: num(raw.beta_start),
    beta_end: num(raw.beta_end),
    num_train_timesteps: num(raw.num_train_timesteps),
    trained_betas: Array.isArray(betas) && betas.every((b) => typeof b === 'number') ? betas : null,
    prediction_type: str(raw.prediction_type),
    original_inference_steps: num(raw.original_inference_steps),
  };
}

/** SD's VAE factor (Rombach et al. 2022, f = 8), assumed when a config does not say (as ComfyUI assumes for SD VAEs). */
export const DEFAULT_VAE_DOWNSCALE = 8;

/**
 * Pixels per latent cell from a diffusers AutoencoderKL config: each block of `block_out_channels` but the last
 * halves the resolution (diffusers Encoder: add_downsample = not is_final_block), so 2^(len - 1); 8 for SD's four
 * blocks, 4 for the three of the SD x4 upscaler's VAE. Undefined when the config has no block_out_channels.
 */
export function vaeDownscaleFrom(cfg: Record<string, unknown>, file: string): number | undefined {
  const blocks = cfg.block_out_channels;
  if (blocks === undefined) return undefined;
  if (!Array.isArray(blocks) || blocks.length === 0 || !blocks.every((b) => Number.isInteger(b) && b > 0)) {
    throw new CheckpointLoadError(`${file}: block_out_channels must be a non-empty list of channel counts, got ${JSON.stringify(blocks)}`);
  }
  if (blocks.length > 7) throw new CheckpointLoadError(`${file}: ${blocks.length} VAE blocks would downscale by 2^${blocks.length - 1}; not a usable VAE`);
  return 2 ** (blocks.length - 1);
}

/**
 * VAE config values: scaling_factor (default SD's 0.18215 only when absent), latent_channels and the downscale
 * factor (vaeDownscaleFrom; 8 when no config says). The first config found gives the values; an encoder and a
 * decoder config that disagree on the factor are refused.
 */
export function vaeConfig(dirs: readonly string[]): { scalingFactor: number; latentChannels: number; downscale: number } {
  let first: { scalingFactor: number; latentChannels: number } | undefined;
  let downscale: { value: number; file: string } | undefined;
  for (const d of dirs) {
    const file = path.join(d, 'config.json');
    const cfg = readJsonObject(file);
    if (!cfg) continue;
    first ??= { scalingFactor: num(cfg.scaling_factor) ?? DEFAULT_SCALING_FACTOR, latentChannels: num(cfg.latent_channels) ?? 4 };
    const factor = vaeDownscaleFrom(cfg, file);
    if (factor === undefined) continue;
    if (downscale && downscale.value !== factor) {
      throw new CheckpointLoadError(`${downscale.file} gives a VAE factor of ${downscale.value} but ${file} gives ${factor}`);
    }
    downscale ??= { value: factor, file };
  }
  return { ...(first ?? { scalingFactor: DEFAULT_SCALING_FACTOR, latentChannels: 4 }), downscale: downscale?.value ?? DEFAULT_VAE_DOWNSCALE };
}

/** A VAE from a folder holding vae_encoder/ and/or vae_decoder/ (or vae/ with a decoder model). */
export function loadVae(dir: string, name: string, source: SessionSource): VaeModel {
  const encDir = path.join(dir, 'vae_encoder');
  const decDir = existsSync(path.join(dir, 'vae_decoder')) ? path.join(dir, 'vae_decoder') : path.join(dir, 'vae');
  const enc = componentModel(encDir);
  const dec = componentModel(decDir);
  if (!enc && !dec) throw new CheckpointLoadError(`${dir} has neither vae_encoder/ nor vae_decoder/ with an ONNX model`);
  const { scalingFactor, latentChannels, downscale } = vaeConfig([decDir, encDir]);
  return {
    name,
    encoder: enc ? new SessionHandle(source, enc) : undefined,
    decoder: dec ? new SessionHandle(source, dec) : undefined,
    downscale,
    latentChannels,
    scalingFactor,
  };
}

function previewerFor(vae: VaeModel): LatentPreviewer {
  const enc = vae.encoder;
  if (!enc) return LatentPreviewer.fixed(SD15_RGB_PROJECTION);
  return new LatentPreviewer(() => probeProjection(enc, vae.scalingFactor, (s, px) => encodeMean(s, px)));
}

/** onnx-web's layout: the U-Net exported again with ControlNet residual inputs, in `<checkpoint>/cnet/`. */
export const RESIDUAL_UNET_FOLDER = 'cnet';

function residualUnetQueue(dir: string, source: SessionSource): UNetQueue | undefined {
  const file = componentModel(path.join(dir, RESIDUAL_UNET_FOLDER));
  return file ? new UNetQueue(new SessionHandle(source, file)) : undefined;
}

/** A tokenizer folder of a pipeline; `required` names the component that needs it when it is missing. */
function tokenizerDir(dir: string, folder: string, name: string, required?: string): string | undefined {
  const d = path.join(dir, folder);
  if (existsSync(d)) return d;
  if (required) throw new CheckpointLoadError(`checkpoint '${name}' has ${required}/ but no ${folder}/ (its tokenizer): copy ${folder}/ from the pipeline's export`);
  return undefined;
}

/**
 * The text side: one encoder (SD 1.x/2.x); text_encoder/ + text_encoder_2/ (SDXL base: CLIP-L and OpenCLIP
 * bigG); text_encoder_2/ alone (SDXL refiner). SDXL reads the penultimate layer by default (ComfyUI
 * sdxl_clip.py layer_idx=-2).
 */
function loadClip(dir: string, name: string, source: SessionSource): ClipModel {
  const textPath = componentModel(path.join(dir, 'text_encoder'));
  const text2Path = componentModel(path.join(dir, 'text_encoder_2'));
  if (!textPath && !text2Path) throw new CheckpointLoadError(`checkpoint '${name}' has no text_encoder/model.onnx`);
  if (!text2Path) {
    const tokDir = tokenizerDir(dir, 'tokenizer', name) ?? dir;
    return { name, textEncoder: new SessionHandle(source, textPath!), tokenizer: loadClipTokenizer(tokDir), layer: -1 };
  }
  const tok2 = loadClipTokenizer(tokenizerDir(dir, 'tokenizer_2', name, 'text_encoder_2')!);
  if (!textPath) return { name, textEncoder: new SessionHandle(source, text2Path), tokenizer: tok2, layer: -2, sdxl: 'refiner' };
  const tok = loadClipTokenizer(tokenizerDir(dir, 'tokenizer', name, 'text_encoder')!);
  return {
    name, textEncoder: new SessionHandle(source, textPath), tokenizer: tok, layer: -2, sdxl: 'base',
    clipG: { textEncoder: new SessionHandle(source, text2Path), tokenizer: tok2 },
  };
}

function loadUncached(dir: string, name: string, source: SessionSource): Checkpoint {
  const unetPath = componentModel(path.join(dir, 'unet'));
  if (!unetPath) throw new CheckpointLoadError(`checkpoint '${name}' has no unet/model.onnx`);
  const clip = loadClip(dir, name, source);
  const vae = loadVae(dir, name, source);
  const sched = schedulerConfigFrom(readJsonObject(path.join(dir, 'scheduler', 'scheduler_config.json')));
  const sampling = ModelSampling.fromSchedulerConfig(sched);
  const training = ModelSampling.fromSchedulerConfig(sched, 'eps').sigmas;
  const model: DiffusionModel = {
    name,
    unet: new UNetQueue(new SessionHandle(source, unetPath)),
    sampling,
    trainingSigmas: training,
    timestepMode: 'nearest',
    latentScale: vae.scalingFactor,
    latentChannels: vae.latentChannels,
    lcmGuidance: LCM_DEFAULT_GUIDANCE,
    previewer: previewerFor(vae),
    residualUnet: residualUnetQueue(dir, source),
  };
  return { model, clip, vae };
}

const loaded = new WeakMap<SessionSource, Map<string, Checkpoint>>();

/** Loads (once per source) the pipeline folder `dir`. */
export function loadCheckpoint(dir: string, name: string, source: SessionSource): Checkpoint {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new CheckpointLoadError(`checkpoint '${name}' not found (${dir})`);
  const key = path.resolve(dir);
  let bySource = loaded.get(source);
  if (!bySource) loaded.set(source, (bySource = new Map()));
  const hit = bySource.get(key);
  if (hit) return hit;
  const ck = loadUncached(dir, name, source);
  bySource.set(key, ck);
  return ck;
}
