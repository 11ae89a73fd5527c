/** The values node families share along their sockets: LATENT, MODEL, CLIP, VAE, CONDITIONING (ComfyUI's core types). */
import type { ModelSampling, TimestepMode } from '../sampling/model-sampling.js';
import type { Tensor } from '../runtime/tensor.js';
import type { ClipTokenizer } from '../tokenizer/index.js';
import type { SessionHandle } from '../runtime/session-handle.js';
import type { UNetQueue } from '../runtime/batching/unet-queue.js';
import type { LatentPreviewer } from '../imaging/latent-preview.js';

/** A loaded diffusion model: its U-Net batching point and how sigmas map onto it. */
export interface DiffusionModel {
  readonly name: string;
  readonly unet: UNetQueue;
  readonly sampling: ModelSampling;
  /** The training sigmas (before any distillation), so ModelSamplingDiscrete can rebuild `sampling`. */
  readonly trainingSigmas: Float64Array;
  readonly timestepMode: TimestepMode;
  /** U-Net latents = VAE latents x latentScale (the VAE config's scaling_factor). */
  readonly latentScale: number;
  readonly latentChannels: number;
  /** Guidance scale embedded into `timestep_cond` for LCM U-Nets (diffusers' LCM pipeline default 8.5). */
  readonly lcmGuidance: number;
  readonly previewer: LatentPreviewer;
  /**
   * The same U-Net exported with ControlNet residual inputs (the checkpoint's cnet/), used for the steps a
   * ControlNet applies to; absent when the checkpoint has none. `unetComponents` lists both.
   */
  readonly residualUnet?: UNetQueue;
}

/** A loaded ControlNet (models/controlnet/<name>/model.onnx + config.json). */
export interface ControlNetModel {
  readonly name: string;
  readonly session: SessionHandle;
  /** The ControlNet's batching point (every output fetched): concurrent jobs' calls merge like U-Net calls. */
  readonly queue: UNetQueue;
  /** config.json's cross_attention_dim, when it says (to tell an SDXL ControlNet from an SD1.5 one). */
  readonly crossAttentionDim?: number;
}

/**
 * ComfyUI's `control` on a conditioning entry: a ControlNet with its hint, strength and schedule range,
 * chained to the control the entry carried before (their residuals add).
 */
export interface ControlLink {
  readonly net: ControlNetModel;
  /** The control image, IMAGE [B,H,W,C] 0..1 as given (resized per call to the latent x 8). */
  readonly hint: Tensor;
  readonly strength: number;
  /** start_percent / end_percent of the schedule. */
  readonly start: number;
  readonly end: number;
  readonly previous?: ControlLink;
}

/** A text encoder plus its tokenizer. */
export interface ClipModel {
  readonly name: string;
  readonly textEncoder: SessionHandle;
  /** Its pad token (49407 for SD 1.x, 0 for SD 2.x) and length come from the tokenizer config. */
  readonly tokenizer: ClipTokenizer;
  /** CLIPSetLastLayer's stop_at_clip_layer: -1 is the exported output, -2 the layer before, ... */
  readonly layer: number;
  /**
   * SDXL's text side (ComfyUI comfy/sdxl_clip.py): 'base' = `textEncoder` is CLIP-L and `clipG` the OpenCLIP
   * bigG tower (text_encoder_2/), their penultimate states concatenated; 'refiner' = `textEncoder` is the
   * bigG tower alone (SDXLRefinerClipModel). Absent for SD 1.x / 2.x.
   */
  readonly sdxl?: 'base' | 'refiner';
  /** SDXL base: the second tower (text_encoder_2/ + tokenizer_2/), which also gives the pooled `text_embeds`. */
  readonly clipG?: ClipTower;
}

/** One text tower of a multi-encoder CLIP (SDXL's clip_g). */
export interface ClipTower {
  readonly textEncoder: SessionHandle;
  readonly tokenizer: ClipTokenizer;
}

/**
 * SDXL's size and aesthetic conditioning on an entry (ComfyUI's `width`, `height`, `crop_w`, `crop_h`,
 * `target_width`, `target_height`, `aesthetic_score` keys, read by model_base.py SDXL/SDXLRefiner.encode_adm).
 * Missing values are filled when sampling: width/height from the latent size x 8, targets from width/height,
 * crops 0, aesthetic score 6 (positive) / 2.5 (negative).
 */
export interface SizeCond {
  readonly width?: number;
  readonly height?: number;
  readonly cropW?: number;
  readonly cropH?: number;
  readonly targetWidth?: number;
  readonly targetHeight?: number;
  readonly aestheticScore?: number;
}

export interface VaeModel {
  readonly name: string;
  readonly encoder?: SessionHandle;
  readonly decoder?: SessionHandle;
  /** Pixels per latent cell (8 for SD). */
  readonly downscale: number;
  readonly latentChannels: number;
  readonly scalingFactor: number;
}

/** A conditioning area in latent cells (ComfyUI's (h, w, y, x) = pixels // 8). */
export interface CondArea {
  readonly h: number;
  readonly w: number;
  readonly y: number;
  readonly x: number;
}

/** One entry of ComfyUI's conditioning list: [cond tensor, {pooled_output, area, strength, ...}]. */
export interface CondEntry {
  /** [1, seq, dim] */
  readonly embeds: Tensor;
  /** [1, dim] */
  readonly pooled?: Tensor;
  readonly area?: CondArea;
  readonly strength: number;
  /**
   * ComfyUI's start_percent / end_percent (ConditioningSetTimestepRange): the entry takes part only
   * while sigma lies between the model's sigmas at those fractions of the schedule.
   */
  readonly timestepRange?: { readonly start: number; readonly end: number };
  /** ComfyUI ConditioningSetMask: where the entry applies, and how much. */
  readonly mask?: CondMask;
  /** ComfyUI's `control`: the ControlNet chain applied where this entry is evaluated. */
  readonly control?: ControlLink;
  /** ComfyUI's `control_apply_to_uncond` (ControlNetApply): the control is copied to uncond entries without one. */
  readonly controlApplyToUncond?: boolean;
  /** SDXL size / aesthetic conditioning (CLIPTextEncodeSDXL, CLIPTextEncodeSDXLRefiner). */
  readonly size?: SizeCond;
}

/** A conditioning mask: [Bm,h,w] in 0..1 at any size (resized to the latent when sampling). */
export interface CondMask {
  readonly mask: Tensor;
  readonly strength: number;
  /** 'mask bounds': run the U-Net only on the box around the mask (at least 8 x 8 cells). */
  readonly toBounds: boolean;
}

export type Conditioning = readonly CondEntry[];

/** ComfyUI's latent dict: `samples` [B,C,h,w], an optional noise mask and batch indices. */
export interface Latent {
  readonly samples: Tensor<'float32'>;
  readonly noise_mask?: Tensor<'float32'>;
  readonly batch_index?: readonly number[];
}
