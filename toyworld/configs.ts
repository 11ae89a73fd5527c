/** The JSON configuration files of the pack, with the keys diffusers and Transformers.js read. */
import { BETA_END, BETA_START, TRAIN_STEPS } from './schedule.js';
import { IMAGE_SIZE, LATENT_CHANNELS, PROTO_SIZE, SCALING_FACTOR } from './latents.js';
import { CLIP_DIM, CLIP_MEAN, CLIP_STD, LOGIT_SCALE } from './models/clip.js';
import { IMAGENET_MEAN, IMAGENET_STD } from './models/classifier.js';
import { SD_HIDDEN } from './models/text-encoder.js';
import { INPUT_SIZE } from './models/vision-features.js';
import { MAX_LENGTH, type ToyVocab } from './vocab.js';

const DIFFUSERS_VERSION = '0.30.0';

export function modelIndex(): Record<string, unknown> {
  return {
    _class_name: 'OnnxStableDiffusionPipeline',
    _diffusers_version: DIFFUSERS_VERSION,
    feature_extractor: [null, null],
    requires_safety_checker: false,
    safety_checker: [null, null],
    scheduler: ['diffusers', 'PNDMScheduler'],
    text_encoder: ['diffusers', 'OnnxRuntimeModel'],
    tokenizer: ['transformers', 'CLIPTokenizer'],
    unet: ['diffusers', 'OnnxRuntimeModel'],
    vae_decoder: ['diffusers', 'OnnxRuntimeModel'],
    vae_encoder: ['diffusers', 'OnnxRuntimeModel'],
  };
}

export function schedulerConfig(prediction: 'epsilon' | 'v_prediction'): Record<string, unknown> {
  return {
    _class_name: 'PNDMScheduler',
    _diffusers_version: DIFFUSERS_VERSION,
    beta_end: BETA_END,
    beta_schedule: 'scaled_linear',
    beta_start: BETA_START,
    clip_sample: false,
    num_train_timesteps: TRAIN_STEPS,
    prediction_type: prediction,
    set_alpha_to_one: false,
    skip_prk_steps: true,
    steps_offset: 1,
    timestep_spacing: 'leading',
    trained_betas: null,
  };
}

export function vaeConfig(): Record<string, unknown> {
  return {
    _class_name: 'AutoencoderKL',
    _diffusers_version: DIFFUSERS_VERSION,
    in_channels: 3,
    latent_channels: LATENT_CHANNELS,
    out_channels: 3,
    sample_size: IMAGE_SIZE,
    scaling_factor: SCALING_FACTOR,
  };
}

export function unetConfig(): Record<string, unknown> {
  return {
    _class_name: 'UNet2DConditionModel',
    _diffusers_version: DIFFUSERS_VERSION,
    cross_attention_dim: SD_HIDDEN,
    in_channels: LATENT_CHANNELS,
    out_channels: LATENT_CHANNELS,
    sample_size: PROTO_SIZE,
  };
}

export function sdTextEncoderConfig(v: ToyVocab): Record<string, unknown> {
  return {
    architectures: ['CLIPTextModel'],
    model_type: 'clip_text_model',
    hidden_size: SD_HIDDEN,
    max_position_embeddings: MAX_LENGTH,
    vocab_size: v.tokens.length,
    bos_token_id: v.sotId,
    eos_token_id: v.eotId,
    pad_token_id: v.eotId,
  };
}

export function clipConfig(v: ToyVocab): Record<string, unknown> {
  return {
    _name_or_path: 'toyworld-clip',
    architectures: ['CLIPModel'],
    model_type: 'clip',
    projection_dim: CLIP_DIM,
    logit_scale: LOGIT_SCALE,
    logit_scale_init_value: LOGIT_SCALE,
    text_config: {
      model_type: 'clip_text_model',
      hidden_size: CLIP_DIM,
      projection_dim: CLIP_DIM,
      max_position_embeddings: MAX_LENGTH,
      vocab_size: v.tokens.length,
      bos_token_id: v.sotId,
      eos_token_id: v.eotId,
      pad_token_id: v.eotId,
    },
    vision_config: {
      model_type: 'clip_vision_model',
      hidden_size: 768,
      projection_dim: CLIP_DIM,
      image_size: INPUT_SIZE,
      patch_size: 32,
      num_channels: 3,
    },
  };
}

export function clipPreprocessorConfig(): Record<string, unknown> {
  return {
    crop_size: { height: INPUT_SIZE, width: INPUT_SIZE },
    do_center_crop: true,
    do_convert_rgb: true,
    do_normalize: true,
    do_rescale: true,
    do_resize: true,
    feature_extractor_type: 'CLIPFeatureExtractor',
    image_mean: [...CLIP_MEAN],
    image_processor_type: 'CLIPImageProcessor',
    image_std: [...CLIP_STD],
    resample: 3,
    rescale_factor: 1 / 255,
    size: { shortest_edge: INPUT_SIZE },
  };
}

export function classifierPreprocessorConfig(): Record<string, unknown> {
  return {
    do_normalize: true,
    do_rescale: true,
    do_resize: true,
    image_mean: [...IMAGENET_MEAN],
    image_processor_type: 'ViTImageProcessor',
    image_std: [...IMAGENET_STD],
    resample: 2,
    rescale_factor: 1 / 255,
    size: { height: INPUT_SIZE, width: INPUT_SIZE },
  };
}
