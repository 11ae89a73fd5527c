/**
 * Image preprocessing settings, read from a Hugging Face `preprocessor_config.json`
 * (transformers image_processing_clip.py / image_processing_vit.py keys).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PreprocessConfigError } from './errors.js';

/** PIL resampling filters by their enum value (PIL.Image.Resampling), which HF configs store. */
export const RESAMPLE_FILTERS = ['nearest', 'lanczos', 'bilinear', 'bicubic', 'box', 'hamming'] as const;
export type ResampleFilter = (typeof RESAMPLE_FILTERS)[number];

export type ResizeRule = { readonly kind: 'shortest_edge'; readonly size: number } | { readonly kind: 'exact'; readonly height: number; readonly width: number };

export interface PreprocessConfig {
  /** Absent when do_resize is false. */
  readonly resize?: ResizeRule;
  readonly resample: ResampleFilter;
  /** Absent when do_center_crop is false. */
  readonly crop?: { readonly height: number; readonly width: number };
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
}

/** CLIP's values (openai/CLIP clip.py `_transform`; spec/models.md). */
export const CLIP_DEFAULTS: PreprocessConfig = {
  resize: { kind: 'shortest_edge', size: 224 },
  resample: 'bicubic',
  crop: { height: 224, width: 224 },
  mean: [0.48145466, 0.4578275, 0.40821073],
  std: [0.26862954, 0.26130258, 0.27577711],
};

/**
 * ImageNet evaluation preprocessing (torchvision reference scripts): resize the shortest side to
 * size / 0.875, center crop `size`.
 */
export function imagenetDefaults(size = 224): PreprocessConfig {
  return {
    resize: { kind: 'shortest_edge', size: Math.round(size / 0.875) },
    resample: 'bilinear',
    crop: { height: size, width: size },
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
  };
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPosInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;

function triple(v: unknown, key: string, fallback: readonly [number, number, number]): readonly [number, number, number] {
  if (v === undefined) return fallback;
  if (typeof v === 'number') return [v, v, v];
  if (Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number')) return [v[0], v[1], v[2]];
  throw new PreprocessConfigError(`${key} must be a number or three numbers, got ${JSON.stringify(v)}`);
}

function resizeRule(size: unknown): ResizeRule {
  if (isPosInt(size)) return { kind: 'shortest_edge', size };
  if (isObj(size)) {
    if (isPosInt(size.shortest_edge)) {
      if (size.longest_edge !== undefined) throw new PreprocessConfigError('size.longest_edge is not supported');
      return { kind: 'shortest_edge', size: size.shortest_edge };
    }
    if (isPosInt(size.height) && isPosInt(size.width)) return { kind: 'exact', height: size.height, width: size.width };
  }
  throw new PreprocessConfigError(`unsupported size ${JSON.stringify(size)}`);
}

function cropSize(v: unknown): { height: number; width: number } {
  if (isPosInt(v)) return { height: v, width: v };
  if (isObj(v) && isPosInt(v.height) && isPosInt(v.width)) return { height: v.height, width: v.width };
  throw new PreprocessConfigError(`unsupported crop_size ${JSON.stringify(v)}`);
}

/** Parses a preprocessor_config.json object; keys it lacks come from `defaults`. */
export function parsePreprocessConfig(json: unknown, defaults: PreprocessConfig): PreprocessConfig {
  if (!isObj(json)) throw new PreprocessConfigError('preprocessor_config.json is not an object');
  const doResize = json.do_resize !== false;
  const resize = !doResize ? undefined : json.size !== undefined ? resizeRule(json.size) : defaults.resize;
  let resample = defaults.resample;
  if (json.resample !== undefined) {
    const r = json.resample;
    if (typeof r !== 'number' || !Number.isInteger(r) || r < 0 || r >= RESAMPLE_FILTERS.length) throw new PreprocessConfigError(`unknown resample ${JSON.stringify(r)}`);
    resample = RESAMPLE_FILTERS[r]!;
  }
  // A config that sets its own size without crop keys (ViTImageProcessor) does not crop.
  const doCrop = typeof json.do_center_crop === 'boolean' ? json.do_center_crop : json.crop_size !== undefined || (json.size === undefined && defaults.crop !== undefined);
  const crop = !doCrop ? undefined : json.crop_size !== undefined ? cropSize(json.crop_size) : (defaults.crop ?? (resize?.kind === 'shortest_edge' ? { height: resize.size, width: resize.size } : undefined));
  if (json.do_rescale === false) throw new PreprocessConfigError('do_rescale false (models fed 0..255 pixels) is not supported');
  if (json.rescale_factor !== undefined && (typeof json.rescale_factor !== 'number' || Math.abs(json.rescale_factor * 255 - 1) > 1e-6)) {
    throw new PreprocessConfigError(`rescale_factor ${JSON.stringify(json.rescale_factor)} is not 1/255`);
  }
  const doNormalize = json.do_normalize !== false;
  const mean = doNormalize ? triple(json.image_mean, 'image_mean', defaults.mean) : ([0, 0, 0] as const);
  const std = doNormalize ? triple(json.image_std, 'image_std', defaults.std) : ([1, 1, 1] as const);
  if (std.some((s) => s <= 0)) throw new PreprocessConfigError(`image_std must be positive, got ${JSON.stringify(std)}`);
  return { resize, resample, crop, mean, std };
}

/** Reads `<folder>/preprocessor_config.json`, or returns `defaults` when the folder has none. */
export function readPreprocessConfig(folder: string, defaults: PreprocessConfig): PreprocessConfig {
  const file = path.join(folder, 'preprocessor_config.json');
  if (!existsSync(file)) return defaults;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new PreprocessConfigError(`cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return parsePreprocessConfig(json, defaults);
}

/** The side length the model receives (crop size, or the exact resize). */
export function outputSize(cfg: PreprocessConfig): { height: number; width: number } | undefined {
  if (cfg.crop) return cfg.crop;
  if (cfg.resize?.kind === 'exact') return { height: cfg.resize.height, width: cfg.resize.width };
  return undefined;
}
