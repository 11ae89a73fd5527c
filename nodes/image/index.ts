import { LoadImage, SaveImage, PreviewImage } from './load-save.js';
import { ImageScale, ImageInvert, ImageBatch } from './transform.js';

export const IMAGE_NODES = [LoadImage, SaveImage, PreviewImage, ImageScale, ImageInvert, ImageBatch];
export { LoadImage, SaveImage, PreviewImage, ImageScale, ImageInvert, ImageBatch };
