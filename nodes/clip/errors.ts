/** Errors of the CLIP node family. */

/** A model folder lacks a file or holds a config latentflow cannot use. */
export class ClipModelError extends Error {
  override readonly name = 'ClipModelError';
}

/** preprocessor_config.json asks for something this preprocessing does not implement. */
export class PreprocessConfigError extends Error {
  override readonly name = 'PreprocessConfigError';
}

/** An image index on disk is unreadable or was built by another model. */
export class ImageIndexError extends Error {
  override readonly name = 'ImageIndexError';
}
