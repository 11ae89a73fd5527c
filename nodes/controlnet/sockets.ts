/** CONTROL_NET, the socket only the ControlNet family produces and takes. */
import { socket } from '../../engine/index.js';
import { SessionHandle } from '../../runtime/session-handle.js';
import type { ControlNetModel } from '../../sockets/index.js';

export function isControlNetModel(v: unknown): v is ControlNetModel {
  return typeof v === 'object' && v !== null && 'session' in v && v.session instanceof SessionHandle && 'name' in v && typeof v.name === 'string';
}

export const CONTROL_NET = socket<ControlNetModel>('CONTROL_NET', isControlNetModel);
