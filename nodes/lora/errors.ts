/** Errors of the LoRA family; messages name the file and the first bad key. */
export class LoraFileError extends Error {
  override readonly name = 'LoraFileError';
}

/** A LoRA that does not fit the model it is applied to (no key matches, or shapes disagree). */
export class LoraMismatchError extends Error {
  override readonly name = 'LoraMismatchError';
}
