/**
 * ControlNetApply and ControlNetApplyAdvanced (ComfyUI nodes.py): put a ControlNet with its hint on
 * conditioning entries as their `control`, chained to the control an entry already carries. The denoiser
 * runs it (nodes/diffusion/control-residuals.ts).
 */
import { FLOAT, defineNode } from '../../engine/index.js';
import { CONDITIONING, IMAGE, VAE, type CondEntry, type Conditioning, type ControlLink, type ControlNetModel } from '../../sockets/index.js';
import type { Tensor } from '../../runtime/tensor.js';
import { CONTROL_NET } from './sockets.js';

/** Thrown when a control image is not an IMAGE the ControlNet can take. */
export class ControlImageError extends Error {
  override readonly name = 'ControlImageError';
}

const strengthInput = () => FLOAT({ default: 1.0, min: 0.0, max: 10.0, step: 0.01 });

function checkImage(node: string, image: Tensor): void {
  if (image.shape.length !== 4 || image.shape[3] < 1) throw new ControlImageError(`${node}: input 'image' must be an IMAGE [B,H,W,C], got [${image.shape.join(', ')}]`);
}

/**
 * Each entry gets a link to `net` chained to its previous control; entries sharing a previous control share
 * one link (ComfyUI's `cnets` cache), so positive and negative rows can still share one U-Net call.
 */
function withControl(conds: readonly Conditioning[], make: (previous: ControlLink | undefined) => ControlLink, applyToUncond: boolean): Conditioning[] {
  const links = new Map<ControlLink | undefined, ControlLink>();
  return conds.map((cond) =>
    cond.map((e): CondEntry => {
      let link = links.get(e.control);
      if (!link) links.set(e.control, (link = make(e.control)));
      return { ...e, control: link, controlApplyToUncond: applyToUncond };
    }),
  );
}

function link(net: ControlNetModel, hint: Tensor, strength: number, start: number, end: number) {
  return (previous: ControlLink | undefined): ControlLink => ({ net, hint, strength, start, end, previous });
}

export const ControlNetApply = defineNode({
  type: 'ControlNetApply',
  displayName: 'Apply ControlNet (OLD)',
  category: 'conditioning/controlnet',
  version: '1.0.0',
  deprecated: true,
  description: 'Applies a ControlNet to one conditioning (the unconditional side gets it too while it has none).',
  inputs: { conditioning: CONDITIONING, control_net: CONTROL_NET, image: IMAGE, strength: strengthInput() },
  outputs: { CONDITIONING },
  run(_ctx, { conditioning, control_net, image, strength }) {
    if (strength === 0) return { CONDITIONING: conditioning };
    checkImage('ControlNetApply', image);
    const [out] = withControl([conditioning], link(control_net, image, strength, 0, 1), true);
    return { CONDITIONING: out! };
  },
});

export const ControlNetApplyAdvanced = defineNode({
  type: 'ControlNetApplyAdvanced',
  displayName: 'Apply ControlNet',
  category: 'conditioning/controlnet',
  version: '1.0.0',
  inputs: {
    positive: CONDITIONING,
    negative: CONDITIONING,
    control_net: CONTROL_NET,
    image: IMAGE,
    strength: strengthInput(),
    start_percent: FLOAT({ default: 0.0, min: 0.0, max: 1.0, step: 0.001 }),
    end_percent: FLOAT({ default: 1.0, min: 0.0, max: 1.0, step: 0.001 }),
  },
  // ComfyUI passes the VAE to ControlNets whose hint is a latent; the ONNX ControlNets here take pixels.
  optional: { vae: VAE },
  outputs: { positive: CONDITIONING, negative: CONDITIONING },
  run(_ctx, { positive, negative, control_net, image, strength, start_percent, end_percent }) {
    if (strength === 0) return { positive, negative };
    checkImage('ControlNetApplyAdvanced', image);
    const [p, n] = withControl([positive, negative], link(control_net, image, strength, start_percent, end_percent), false);
    return { positive: p!, negative: n! };
  },
});
