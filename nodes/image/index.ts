import { LoadImage, SaveImage, PreviewImage } from './load-save.js';
import { ImageScale, ImageInvert, ImageBatch } from './transform.js';
import { ImageScaleBy, EmptyImage, ImagePadForOutpaint, ImageCrop } from './image-ops.js';
import { LoadImageMask, InvertMask, SolidMask, MaskToImage, ImageToMask, GrowMask } from './mask-ops.js';
import { ImageBlend, ImageBlur, ImageQuantize, ImageScaleToTotalPixels, ImageSharpen } from './filters.js';
import { ImageCompositeMasked } from './composite.js';
import { Canny, ThresholdMask } from './preprocessors.js';

export const IMAGE_NODES = [
  LoadImage, SaveImage, PreviewImage, ImageScale, ImageInvert, ImageBatch,
  ImageScaleBy, EmptyImage, ImagePadForOutpaint, ImageCrop,
  LoadImageMask, InvertMask, SolidMask, MaskToImage, ImageToMask, GrowMask,
  ImageScaleToTotalPixels, ImageSharpen, ImageBlur, ImageBlend, ImageCompositeMasked, ImageQuantize,
  Canny, ThresholdMask,
];
export { LoadImage, SaveImage, PreviewImage, ImageScale, ImageInvert, ImageBatch };
