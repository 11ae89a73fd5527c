/** The ControlNet family: ControlNetLoader, ControlNetApply (deprecated), ControlNetApplyAdvanced. */
import { ControlNetApply, ControlNetApplyAdvanced } from './apply.js';
import { ControlNetLoader } from './loader.js';

export const CONTROLNET_NODES = [ControlNetLoader, ControlNetApply, ControlNetApplyAdvanced];

export { ControlNetApply, ControlNetApplyAdvanced, ControlImageError } from './apply.js';
export { ControlNetLoader, ControlNetLoadError, listControlNets, loadControlNet } from './loader.js';
export { CONTROL_NET, isControlNetModel } from './sockets.js';
