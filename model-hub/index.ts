/** Model management: pulling from the Hugging Face hub, listing and verifying installed models. */
export { DEFAULT_HF_ENDPOINT, HubClient, hubOptionsFromEnv, nextLink, parseRepoSpec } from './hub-client.js';
export type { HubFile, HubOptions, HubResponse, LinkedHeaders, RepoSpec } from './hub-client.js';
export { downloadFile } from './download.js';
export type { DownloadOptions, DownloadResult, ExpectedFile } from './download.js';
export { detectKind, planPull } from './select-files.js';
export type { PlannedFile, PullPlan, SelectOptions } from './select-files.js';
export { checkModelName, pullModel, pullTmpDir } from './pull.js';
export type { PullEvent, PullOptions, PullResult } from './pull.js';
export { findInstalled, installedFolders, scanFolder } from './components.js';
export type { Component, FolderScan, InstalledRef } from './components.js';
export { COMPONENT_ROLES, checkComponent } from './drivability.js';
export type { ComponentRole, Drivability, Signature } from './drivability.js';
export { describeFlavour } from './flavour.js';
export { folderBytes, listInstalledModels } from './list.js';
export type { InstalledModel } from './list.js';
export { formatVerifyReport, verifyModel } from './verify.js';
export type { ComponentReport, SignatureSource, VerifyOptions, VerifyReport } from './verify.js';
export { KIND_FOLDERS, MODEL_KINDS, PULL_KINDS, SOURCE_FILE, isModelKind, isPullKind } from './kinds.js';
export type { ModelKind, PullKind } from './kinds.js';
export {
  ChecksumMismatchError, DownloadError, HubAuthError, HubNotFoundError, HubRequestError, ModelExistsError, ModelNotFoundError,
  ModelSpecError, PullAbortedError, PullLockedError, UnsupportedLayoutError,
} from './errors.js';
