/**
 * Latent-space constants shared by the VAE, the U-Net and the tests (spec/toyworld.md, "Latent space
 * and VAE"): the VAE latent of an image is the mean of R, G, B (in [-1, 1]) over each 8x8 patch plus a
 * zero fourth channel; U-Net latents are VAE latents times SCALING_FACTOR.
 */
import { BACKGROUND, COLOURS, PLACEMENTS, SHAPES, prototypeIds, shapeCoverage } from './world.js';

/** NOTE: deliberately not SD's 0.18215, so code that hard-codes it fails; keeps U-Net latents within +-0.3. */
export const SCALING_FACTOR = 0.3;
/** Spread of each prototype's Gaussian in U-Net space, about 5% of the latent range. */
export const TAU = 0.03;
/** Gain of the text prior: logit of class (c, s) = BETA * (s[c] + s[s]). */
export const BETA = 8;
export const LATENT_CHANNELS = 4;
export const VAE_FACTOR = 8;
/** Prototypes are stored for 256x256 images, i.e. 32x32 latents. */
export const PROTO_SIZE = 32;
export const IMAGE_SIZE = PROTO_SIZE * VAE_FACTOR;

/** Mean of each 8x8 patch of a coverage map (IMAGE_SIZE square) -> PROTO_SIZE square. */
function patchMeans(cov: Float32Array): Float64Array {
  const out = new Float64Array(PROTO_SIZE * PROTO_SIZE);
  for (let j = 0; j < IMAGE_SIZE; j++) {
    for (let i = 0; i < IMAGE_SIZE; i++) {
      out[((j / VAE_FACTOR) | 0) * PROTO_SIZE + ((i / VAE_FACTOR) | 0)] += cov[j * IMAGE_SIZE + i];
    }
  }
  for (let k = 0; k < out.length; k++) out[k] /= VAE_FACTOR * VAE_FACTOR;
  return out;
}

/**
 * U-Net-space latents of every prototype, [K, 4, 32, 32] in prototypeIds() order. Rendering is linear
 * in the coverage, so each (shape, placement) coverage is patch-averaged once and shared by all colours.
 */
export function prototypeLatents(): Float32Array {
  const ids = prototypeIds();
  const plane = PROTO_SIZE * PROTO_SIZE;
  const means = SHAPES.map((s) => PLACEMENTS[s].map((p) => patchMeans(shapeCoverage(s, p, IMAGE_SIZE, IMAGE_SIZE))));
  const out = new Float32Array(ids.length * LATENT_CHANNELS * plane);
  ids.forEach((id, k) => {
    const m = means[id.shape][id.placement];
    const rgb = COLOURS[id.colour].rgb;
    for (let c = 0; c < 3; c++) {
      const bg = BACKGROUND[c] / 255;
      const fg = rgb[c] / 255;
      const base = (k * LATENT_CHANNELS + c) * plane;
      for (let q = 0; q < plane; q++) out[base + q] = SCALING_FACTOR * (2 * (bg + m[q] * (fg - bg)) - 1);
    }
  });
  return out;
}
