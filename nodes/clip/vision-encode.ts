/** ComfyUI's CLIPVisionEncode: an IMAGE batch -> CLIP_VISION_OUTPUT (image_embeds, last_hidden_state). */
import { COMBO, defineNode } from '../../engine/index.js';
import { CLIP_VISION, CLIP_VISION_OUTPUT } from './sockets.js';
import { IMAGE } from '../../sockets/index.js';
import { encodeImages } from './embed.js';

export const CLIPVisionEncode = defineNode({
  type: 'CLIPVisionEncode',
  displayName: 'CLIP Vision Encode',
  category: 'conditioning',
  version: '1.0.0',
  inputs: {
    clip_vision: CLIP_VISION,
    image: IMAGE,
    crop: COMBO(['center', 'none'], { tooltip: 'center: resize the shortest side and crop the middle; none: squash the whole image.' }),
  },
  outputs: { CLIP_VISION_OUTPUT },
  async run(ctx, { clip_vision, image, crop }) {
    const e = await encodeImages(clip_vision, image, crop, ctx, true);
    return { CLIP_VISION_OUTPUT: { image_embeds: e.imageEmbeds, last_hidden_state: e.lastHiddenState, model: clip_vision.name } };
  },
});
