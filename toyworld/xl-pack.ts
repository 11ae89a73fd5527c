/**
 * toyworld-xl's checkpoint folders in optimum's SDXL layout (spec/toyworld.md, "toyworld-xl"): the base
 * (text_encoder/ + text_encoder_2/, tokenizer/ + tokenizer_2/, U-Net with text_embeds and time_ids [B,6]) and the
 * refiner (text_encoder_2/ alone, time_ids [B,5]), and the base with float16 I/O (toyworld-xl-fp16); VAE graphs as toyworld's with their own scaling factor.
 */
import { schedulerConfig, vaeConfig } from './configs.js';
import { LATENT_CHANNELS, PROTO_SIZE, SCALING_FACTOR } from './latents.js';
import { buildUnet } from './models/unet.js';
import { buildVaeDecoder, buildVaeEncoder } from './models/vae.js';
import { XL_G_HIDDEN, XL_L_HIDDEN, buildXlTextEncoder } from './models/xl.js';
import { json, slowTokenizerFiles } from './tokenizer-files.js';
import { MAX_LENGTH, type ToyVocab } from './vocab.js';

export const XL_FOLDER = 'checkpoints/toyworld-xl';
export const XL_REFINER_FOLDER = 'checkpoints/toyworld-xl-refiner';
/** The base with float16 inputs and outputs on every model (fp16 exports). */
export const XL_FP16_FOLDER = 'checkpoints/toyworld-xl-fp16';
/** NOTE: toyworld-xl's own VAE factor (toyworld's is 0.3): a loader that reuses another checkpoint's factor draws washed-out or clipped colours. */
export const XL_SCALING_FACTOR = 0.25;
/** The first byte symbol, `!` (id 0), SDXL's tokenizer_2 pad token. */
const G_PAD = '!';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

function textConfig(v: ToyVocab, hidden: number, projection: boolean): Record<string, unknown> {
  return {
    architectures: [projection ? 'CLIPTextModelWithProjection' : 'CLIPTextModel'],
    model_type: 'clip_text_model',
    hidden_size: hidden,
    num_hidden_layers: 2,
    ...(projection ? { projection_dim: hidden } : {}),
    max_position_embeddings: MAX_LENGTH,
    vocab_size: v.tokens.length,
    bos_token_id: v.sotId,
    eos_token_id: v.eotId,
  };
}

function unetXlConfig(refiner: boolean): Record<string, unknown> {
  const ids = refiner ? 5 : 6;
  return {
    _class_name: 'UNet2DConditionModel',
    addition_embed_type: 'text_time',
    addition_time_embed_dim: 256,
    cross_attention_dim: refiner ? XL_G_HIDDEN : XL_L_HIDDEN + XL_G_HIDDEN,
    projection_class_embeddings_input_dim: XL_G_HIDDEN + ids * 256,
    in_channels: LATENT_CHANNELS,
    out_channels: LATENT_CHANNELS,
    sample_size: PROTO_SIZE,
  };
}

function modelIndexXl(refiner: boolean): Record<string, unknown> {
  return {
    _class_name: 'ORTStableDiffusionXLPipeline',
    force_zeros_for_empty_prompt: true,
    requires_aesthetics_score: refiner,
    scheduler: ['diffusers', 'EulerDiscreteScheduler'],
    text_encoder: refiner ? [null, null] : ['transformers', 'CLIPTextModel'],
    text_encoder_2: ['transformers', 'CLIPTextModelWithProjection'],
    tokenizer: refiner ? [null, null] : ['transformers', 'CLIPTokenizer'],
    tokenizer_2: ['transformers', 'CLIPTokenizer'],
    unet: ['diffusers', 'UNet2DConditionModel'],
    vae: ['diffusers', 'AutoencoderKL'],
  };
}

function tokenizerFiles(v: ToyVocab, pad?: string): Record<string, string> {
  const files = slowTokenizerFiles(v);
  if (!pad) return files;
  const withPad = (text: string) => json({ ...(JSON.parse(text) as Record<string, unknown>), pad_token: pad });
  return { ...files, 'tokenizer_config.json': withPad(files['tokenizer_config.json']!), 'special_tokens_map.json': withPad(files['special_tokens_map.json']!) };
}

/** Writes the base and refiner folders; `sdLatents` are toyworld's prototypes at its own factor. */
export function xlCheckpointFiles(vocab: ToyVocab, sdLatents: Float32Array, out: Map<string, Uint8Array>): void {
  const latents = sdLatents.map((v) => (v / SCALING_FACTOR) * XL_SCALING_FACTOR);
  const vae = json({ ...vaeConfig(), scaling_factor: XL_SCALING_FACTOR });
  for (const [dir, refiner, io] of [[XL_FOLDER, false, 'float32'], [XL_REFINER_FOLDER, true, 'float32'], [XL_FP16_FOLDER, false, 'float16']] as const) {
    out.set(`${dir}/model_index.json`, utf8(json(modelIndexXl(refiner))));
    if (!refiner) {
      for (const [name, text] of Object.entries(tokenizerFiles(vocab))) out.set(`${dir}/tokenizer/${name}`, utf8(text));
      out.set(`${dir}/text_encoder/config.json`, utf8(json(textConfig(vocab, XL_L_HIDDEN, false))));
      out.set(`${dir}/text_encoder/model.onnx`, buildXlTextEncoder(vocab, 'l', io));
    }
    for (const [name, text] of Object.entries(tokenizerFiles(vocab, G_PAD))) out.set(`${dir}/tokenizer_2/${name}`, utf8(text));
    out.set(`${dir}/text_encoder_2/config.json`, utf8(json(textConfig(vocab, XL_G_HIDDEN, true))));
    out.set(`${dir}/text_encoder_2/model.onnx`, buildXlTextEncoder(vocab, 'g', io));
    out.set(`${dir}/unet/config.json`, utf8(json(unetXlConfig(refiner))));
    const xl = { context: refiner ? XL_G_HIDDEN : XL_L_HIDDEN + XL_G_HIDDEN, timeIds: refiner ? 5 : 6 } as const;
    out.set(`${dir}/unet/model.onnx`, buildUnet(latents, { io, timestep: 'float', prediction: 'epsilon', xl }));
    out.set(`${dir}/vae_encoder/config.json`, utf8(vae));
    out.set(`${dir}/vae_encoder/model.onnx`, buildVaeEncoder({ io, output: 'latent_sample' }));
    out.set(`${dir}/vae_decoder/config.json`, utf8(vae));
    out.set(`${dir}/vae_decoder/model.onnx`, buildVaeDecoder({ io }));
    out.set(`${dir}/scheduler/scheduler_config.json`, utf8(json({ ...schedulerConfig('epsilon'), _class_name: 'EulerDiscreteScheduler' })));
  }
}
