/** Errors of the upscale family. */

/** An upscale model that cannot be used: not image-to-image, unreadable, or refusing every probe. */
export class UpscaleModelError extends Error {
  override readonly name = 'UpscaleModelError';
}
