/**
 * SDXL's text nodes (ComfyUI comfy_extras/nodes_clip_sdxl.py CLIPTextEncodeSDXL, CLIPTextEncodeSDXLRefiner):
 * the prompt conditioning of encodeSdxlText plus the size (and, for the refiner, aesthetic score) entries
 * that the U-Net's `time_ids` are built from when sampling.
 */
import { FLOAT, INT, NodeInputError, STRING, defineNode } from '../../engine/index.js';
import { CLIP, CONDITIONING } from '../../sockets/index.js';
import type { ClipModel, Conditioning, SizeCond } from '../../sockets/index.js';
import { encodeSdxlText } from './clip-text.js';
import { embeddingsDir } from './embeddings.js';
import { MAX_RESOLUTION } from './conditioning.js';

const withSize = (c: Conditioning, size: SizeCond): Conditioning => c.map((e) => ({ ...e, size: { ...e.size, ...size } }));

function requireSdxl(clip: ClipModel, want: 'base' | 'refiner', node: string): void {
  if (clip.sdxl === want) return;
  const has = clip.sdxl === undefined ? 'an SD 1.x/2.x CLIP (one text encoder)' : `the SDXL ${clip.sdxl}'s CLIP`;
  const needs = want === 'base' ? 'an SDXL base CLIP (text_encoder/ + text_encoder_2/)' : "the SDXL refiner's CLIP (text_encoder_2/ alone)";
  throw new NodeInputError('clip', `${node} needs ${needs}, but '${clip.name}' has ${has}`);
}

const size = (def: number) => INT({ default: def, min: 0, max: MAX_RESOLUTION });

export const CLIPTextEncodeSDXL = defineNode({
  type: 'CLIPTextEncodeSDXL',
  category: 'advanced/conditioning',
  version: '1.0.0',
  inputs: {
    clip: CLIP,
    width: size(1024),
    height: size(1024),
    crop_w: size(0),
    crop_h: size(0),
    target_width: size(1024),
    target_height: size(1024),
    text_g: STRING({ multiline: true, dynamicPrompts: true }),
    text_l: STRING({ multiline: true, dynamicPrompts: true }),
  },
  outputs: { CONDITIONING },
  async run(ctx, i) {
    requireSdxl(i.clip, 'base', 'CLIPTextEncodeSDXL');
    const c = await encodeSdxlText(i.clip, i.text_g, i.text_l, ctx, embeddingsDir(ctx.services));
    return {
      CONDITIONING: withSize(c, {
        width: i.width, height: i.height, cropW: i.crop_w, cropH: i.crop_h, targetWidth: i.target_width, targetHeight: i.target_height,
      }),
    };
  },
});

export const CLIPTextEncodeSDXLRefiner = defineNode({
  type: 'CLIPTextEncodeSDXLRefiner',
  category: 'advanced/conditioning',
  version: '1.0.0',
  inputs: {
    ascore: FLOAT({ default: 6.0, min: 0.0, max: 1000.0, step: 0.01 }),
    width: size(1024),
    height: size(1024),
    text: STRING({ multiline: true, dynamicPrompts: true }),
    clip: CLIP,
  },
  outputs: { CONDITIONING },
  async run(ctx, i) {
    requireSdxl(i.clip, 'refiner', 'CLIPTextEncodeSDXLRefiner');
    const c = await encodeSdxlText(i.clip, i.text, i.text, ctx, embeddingsDir(ctx.services));
    return { CONDITIONING: withSize(c, { aestheticScore: i.ascore, width: i.width, height: i.height }) };
  },
});
