/**
 * IMAGE [B,H,W,C] 0..1 -> model input [B,3,S,S] as Hugging Face's CLIPImageProcessor does it
 * (image_processing_clip.py): resize (shortest edge, Pillow filter), center crop at ((H - h) // 2,
 * (W - w) // 2), 8-bit pixel levels, (x - mean) / std, channels first.
 */
import { NodeInputError } from '../../engine/index.js';
import { Tensor } from '../../runtime/tensor.js';
import { resizePil } from './resample-pil.js';
import type { PreprocessConfig } from './preprocess-config.js';

/** `center` follows the config; `none` squashes the whole image to the crop size (ComfyUI's crop="none"). */
export type CropMode = 'center' | 'none';

/** Output size of a shortest-edge resize: the long side truncates, as transformers' get_resize_output_image_size. */
export function shortestEdgeSize(h: number, w: number, size: number): { height: number; width: number } {
  if (h <= w) return { height: size, width: Math.trunc((size * w) / h) };
  return { height: Math.trunc((size * h) / w), width: size };
}

function resizeTarget(cfg: PreprocessConfig, h: number, w: number, mode: CropMode): { height: number; width: number } {
  if (mode === 'none' && cfg.crop) return cfg.crop;
  const r = cfg.resize;
  if (!r) return { height: h, width: w };
  return r.kind === 'exact' ? { height: r.height, width: r.width } : shortestEdgeSize(h, w, r.size);
}

/** One image's pixel values, channels first; rows of `out` from `offset`. */
function preprocessOne(rgb: Float32Array, h: number, w: number, cfg: PreprocessConfig, mode: CropMode, out: Float32Array, offset: number, size: { height: number; width: number }): void {
  const t = resizeTarget(cfg, h, w, mode);
  const resized = t.height === h && t.width === w ? rgb : resizePil(rgb, h, w, 3, t.height, t.width, cfg.resample);
  const { height: ch, width: cw } = size;
  const top = Math.floor((t.height - ch) / 2);
  const left = Math.floor((t.width - cw) / 2);
  for (let c = 0; c < 3; c++) {
    const mean = cfg.mean[c]!;
    const std = cfg.std[c]!;
    const plane = offset + c * ch * cw;
    for (let y = 0; y < ch; y++) {
      const sy = y + top;
      for (let x = 0; x < cw; x++) {
        const sx = x + left;
        // Pillow hands back 8-bit pixels, so the model saw rounded, clipped levels.
        let v = 0;
        if (sy >= 0 && sy < t.height && sx >= 0 && sx < t.width) {
          const q = Math.round(resized[(sy * t.width + sx) * 3 + c]! * 255);
          v = (q < 0 ? 0 : q > 255 ? 255 : q) / 255;
        }
        out[plane + y * cw + x] = (v - mean) / std;
      }
    }
  }
}

/** The model input size for a config (crop size, or the exact resize). */
function inputSize(cfg: PreprocessConfig, h: number, w: number, mode: CropMode): { height: number; width: number } {
  if (cfg.crop) return cfg.crop;
  return resizeTarget(cfg, h, w, mode);
}

/** pixel_values [n,3,S,S] for rows [from, to) of an IMAGE batch. */
export function pixelValues(images: Tensor<'float32'>, cfg: PreprocessConfig, mode: CropMode = 'center', from = 0, to?: number): Tensor<'float32'> {
  const [b, h, w, c] = images.shape;
  if (images.shape.length !== 4 || b === undefined || h === undefined || w === undefined || c === undefined) {
    throw new NodeInputError('image', `expected an IMAGE [B,H,W,C], got ${images.describe()}`);
  }
  if (c < 3) throw new NodeInputError('image', `expected 3 or 4 channels, got ${c}`);
  const end = to ?? b;
  const size = inputSize(cfg, h, w, mode);
  const per = 3 * size.height * size.width;
  const out = new Float32Array((end - from) * per);
  const rgb = new Float32Array(h * w * 3);
  for (let i = from; i < end; i++) {
    const src = images.data.subarray(i * h * w * c, (i + 1) * h * w * c);
    if (c === 3) rgb.set(src);
    else for (let p = 0; p < h * w; p++) for (let k = 0; k < 3; k++) rgb[p * 3 + k] = src[p * c + k]!;
    preprocessOne(rgb, h, w, cfg, mode, out, (i - from) * per, size);
  }
  return new Tensor('float32', out, [end - from, 3, size.height, size.width]);
}
