/**
 * The U-Net components of a diffusion model, in one place: whatever changes U-Net weights (LoRA) must
 * change every one of them, since the residual U-Net (cnet/) runs the steps a ControlNet applies to.
 */
import type { UNetQueue } from '../runtime/batching/unet-queue.js';
import type { DiffusionModel } from './values.js';

export type UNetRole = 'unet' | 'residual_unet';

/** The model's U-Nets with their roles: the plain one first, then the residual one when there is one. */
export function unetComponents(m: DiffusionModel): { readonly role: UNetRole; readonly queue: UNetQueue }[] {
  const out: { role: UNetRole; queue: UNetQueue }[] = [{ role: 'unet', queue: m.unet }];
  if (m.residualUnet) out.push({ role: 'residual_unet', queue: m.residualUnet });
  return out;
}
