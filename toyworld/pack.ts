/**
 * Assembles every file of the toyworld pack in memory: path (relative to models/) -> contents. The
 * SD checkpoint flavours reproduce the I/O signatures of real exporters (spec/models.md).
 */
import {
  classifierPreprocessorConfig,
  clipConfig,
  clipPreprocessorConfig,
  modelIndex,
  schedulerConfig,
  sdTextEncoderConfig,
  unetConfig,
  vaeConfig,
} from './configs.js';
import { prototypeLatents } from './latents.js';
import { buildClassifier } from './models/classifier.js';
import { buildClipModel, buildClipText, buildClipVision } from './models/clip.js';
import type { FloatIo } from './models/ops.js';
import { buildSdTextEncoder } from './models/text-encoder.js';
import { buildUnet, type UnetOptions } from './models/unet.js';
import { buildControlNet, controlNetConfig } from './models/controlnet.js';
import { buildUpscaler } from './models/upscaler.js';
import { crimsonEmbedding, purpleLora, squareLora } from './models/adapters.js';
import { buildVaeDecoder, buildVaeEncoder, type VaeEncoderOptions } from './models/vae.js';
import { fastTokenizerJson, json, slowTokenizerFiles, tokenizerConfig } from './tokenizer-files.js';
import { buildVocab, type ToyVocab } from './vocab.js';
import { classLabels } from './world.js';
import { xlCheckpointFiles } from './xl-pack.js';

export interface Flavour {
  name: string;
  /** Also writes cnet/, the U-Net with ControlNet residual inputs (onnx-web's layout). */
  cnet?: boolean;
  ids: 'int32' | 'int64';
  io: FloatIo;
  timestep: UnetOptions['timestep'];
  prediction: UnetOptions['prediction'];
  vaeOutput: VaeEncoderOptions['output'];
}

const BASE: Flavour = { name: 'toyworld-shapes', ids: 'int32', io: 'float32', timestep: 'float', prediction: 'epsilon', vaeOutput: 'latent_sample' };

/** The default (diffusers-script) checkpoint and its exporter flavours. */
export const FLAVOURS: readonly Flavour[] = [
  { ...BASE, cnet: true },
  { ...BASE, name: 'toyworld-shapes-int64t', timestep: 'int64' },
  { ...BASE, name: 'toyworld-shapes-scalart', timestep: 'scalar' },
  { ...BASE, name: 'toyworld-shapes-fp16', io: 'float16' },
  { ...BASE, name: 'toyworld-shapes-vpred', prediction: 'v_prediction' },
  { ...BASE, name: 'toyworld-shapes-latentparams', ids: 'int64', vaeOutput: 'latent_parameters' },
];

export const CLIP_FOLDER = 'clip_vision/toyworld-clip';
export const CLASSIFIER_FOLDER = 'classifiers/toyworld-shapes';
/** The ESRGAN-signature x4 upscaler, a single file as ComfyUI's upscale_models/ holds them. */
export const UPSCALER_FILE = 'upscale_models/toyworld-x4.onnx';
/** The silhouette ControlNet for toyworld-shapes (whose cnet/ takes its residuals). */
export const CONTROLNET_FOLDER = 'controlnet/toyworld-silhouette';

/** LoRAs (models/loras/) and the embedding (models/embeddings/) for toyworld-shapes; see models/adapters.ts. */
export const LORA_FILES = { purple: 'loras/toyworld-purple.safetensors', square: 'loras/toyworld-square.safetensors' } as const;
export const EMBEDDING_FILE = 'embeddings/toyworld-crimson.safetensors';

export type PackFiles = Map<string, Uint8Array>;

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

function checkpointFiles(f: Flavour, vocab: ToyVocab, latents: Float32Array, out: PackFiles): void {
  const dir = `checkpoints/${f.name}`;
  const vae = json(vaeConfig());
  out.set(`${dir}/model_index.json`, utf8(json(modelIndex())));
  for (const [name, text] of Object.entries(slowTokenizerFiles(vocab))) out.set(`${dir}/tokenizer/${name}`, utf8(text));
  out.set(`${dir}/text_encoder/config.json`, utf8(json(sdTextEncoderConfig(vocab))));
  out.set(`${dir}/text_encoder/model.onnx`, buildSdTextEncoder(vocab, { ids: f.ids, io: f.io }));
  out.set(`${dir}/unet/config.json`, utf8(json(unetConfig())));
  out.set(`${dir}/unet/model.onnx`, buildUnet(latents, { io: f.io, timestep: f.timestep, prediction: f.prediction }));
  if (f.cnet) {
    out.set(`${dir}/cnet/config.json`, utf8(json(unetConfig())));
    out.set(`${dir}/cnet/model.onnx`, buildUnet(latents, { io: f.io, timestep: f.timestep, prediction: f.prediction, residuals: true }));
  }
  out.set(`${dir}/vae_encoder/config.json`, utf8(vae));
  out.set(`${dir}/vae_encoder/model.onnx`, buildVaeEncoder({ io: f.io, output: f.vaeOutput }));
  out.set(`${dir}/vae_decoder/config.json`, utf8(vae));
  out.set(`${dir}/vae_decoder/model.onnx`, buildVaeDecoder({ io: f.io }));
  out.set(`${dir}/scheduler/scheduler_config.json`, utf8(json(schedulerConfig(f.prediction))));
}

/** Builds the whole pack; deterministic, so the same bytes every run. */
export function buildPack(): PackFiles {
  const vocab = buildVocab();
  const latents = prototypeLatents();
  const out: PackFiles = new Map();
  for (const f of FLAVOURS) checkpointFiles(f, vocab, latents, out);
  xlCheckpointFiles(vocab, latents, out);

  out.set(`${CLIP_FOLDER}/config.json`, utf8(json(clipConfig(vocab))));
  out.set(`${CLIP_FOLDER}/preprocessor_config.json`, utf8(json(clipPreprocessorConfig())));
  out.set(`${CLIP_FOLDER}/tokenizer.json`, utf8(json(fastTokenizerJson(vocab))));
  for (const [name, text] of Object.entries(slowTokenizerFiles(vocab))) out.set(`${CLIP_FOLDER}/${name}`, utf8(text));
  out.set(`${CLIP_FOLDER}/tokenizer_config.json`, utf8(json(tokenizerConfig())));
  out.set(`${CLIP_FOLDER}/onnx/text_model.onnx`, buildClipText(vocab));
  out.set(`${CLIP_FOLDER}/onnx/vision_model.onnx`, buildClipVision());
  out.set(`${CLIP_FOLDER}/onnx/model.onnx`, buildClipModel(vocab));

  out.set(`${CLASSIFIER_FOLDER}/model.onnx`, buildClassifier());
  out.set(`${CLASSIFIER_FOLDER}/labels.txt`, utf8(`${classLabels().join('\n')}\n`));
  out.set(`${CLASSIFIER_FOLDER}/preprocessor_config.json`, utf8(json(classifierPreprocessorConfig())));

  out.set(UPSCALER_FILE, buildUpscaler({ scale: 4, io: 'float32' }));
  out.set(`${CONTROLNET_FOLDER}/model.onnx`, buildControlNet());
  out.set(`${CONTROLNET_FOLDER}/config.json`, utf8(json(controlNetConfig())));
  out.set(LORA_FILES.purple, purpleLora());
  out.set(LORA_FILES.square, squareLora());
  out.set(EMBEDDING_FILE, crimsonEmbedding());
  return out;
}
