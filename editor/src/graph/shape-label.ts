/**
 * How an inferred shape reads on an output (editor.md: "LATENT 4x64x64 x2", "IMAGE 512x512"): latents
 * as channels x height x width, images and masks as width x height, a batch above one as "xN".
 */
export function shapeLabel(type: string, shape: readonly number[]): string {
  const batch = (b: number | undefined) => (b !== undefined && b > 1 ? ` x${b}` : '');
  if (type === 'LATENT' && shape.length === 4) return `${shape[1]}x${shape[2]}x${shape[3]}${batch(shape[0])}`;
  if (type === 'IMAGE' && shape.length === 4) return `${shape[2]}x${shape[1]}${batch(shape[0])}`;
  if (type === 'MASK' && shape.length === 3) return `${shape[2]}x${shape[1]}${batch(shape[0])}`;
  // An upscale model's "shape" is its scale.
  if (type === 'UPSCALE_MODEL' && shape.length === 1) return `x${shape[0]}`;
  return shape.join('x');
}
