/** Errors of model management (pull, list, verify); each names the repo, file or folder involved. */

/** The hub answered with an error status the caller cannot fix by retrying. */
export class HubRequestError extends Error {
  override readonly name: string = 'HubRequestError';
  constructor(
    message: string,
    readonly status: number,
    readonly url: string,
  ) {
    super(message);
  }
}

/** 401/403: the repository is private or gated, or HF_TOKEN is wrong. */
export class HubAuthError extends HubRequestError {
  override readonly name = 'HubAuthError';
}

/** 404: the repository, revision or file does not exist (or is private and no token was sent). */
export class HubNotFoundError extends HubRequestError {
  override readonly name = 'HubNotFoundError';
}

/** The connection failed more often than the retry budget allows. */
export class DownloadError extends Error {
  override readonly name = 'DownloadError';
}

/** A downloaded file's size or sha256 differs from what the hub announced. */
export class ChecksumMismatchError extends Error {
  override readonly name = 'ChecksumMismatchError';
}

/** The repository's files do not form a layout latentflow supports. */
export class UnsupportedLayoutError extends Error {
  override readonly name = 'UnsupportedLayoutError';
}

/** `models/<kind>/<name>/` already exists and replacing it was not asked for. */
export class ModelExistsError extends Error {
  override readonly name = 'ModelExistsError';
}

/** No installed model has that name (or the kind given does not hold it). */
export class ModelNotFoundError extends Error {
  override readonly name = 'ModelNotFoundError';
}

/** A repository spec, model name or option the user gave is malformed. */
export class ModelSpecError extends Error {
  override readonly name = 'ModelSpecError';
}

/** The pull was interrupted (Ctrl+C); partial downloads stay in the tmp folder for a later resume. */
export class PullAbortedError extends Error {
  override readonly name = 'PullAbortedError';
}

/** Another pull of the same name is running in this models folder. */
export class PullLockedError extends Error {
  override readonly name = 'PullLockedError';
}
