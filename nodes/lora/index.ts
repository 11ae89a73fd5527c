/** The LoRA family: LoraLoader and LoraLoaderModelOnly, patching U-Net and text-encoder weights of ONNX checkpoints. */
import { LoraLoader, LoraLoaderModelOnly } from './nodes.js';

export const LORA_NODES = [LoraLoader, LoraLoaderModelOnly];

export { LoraLoader, LoraLoaderModelOnly, listLoras, lorasDir } from './nodes.js';
export { readLoraFile, type LoraAdapter, type LoraFile } from './lora-file.js';
export { loraDeltas, mergePatch, unmatchedKeys } from './apply.js';
export { clipKeyMap, unetKeyMap, weightSlots, type WeightSlot } from './key-map.js';
export { patchClip, patchDiffusionModel } from './patch-model.js';
export { LoraFileError, LoraMismatchError } from './errors.js';
