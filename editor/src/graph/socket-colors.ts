/** Handle and link colours by socket type (ComfyUI's palette where it has one). */
const COLORS: Record<string, string> = {
  MODEL: '#b39ddb',
  CLIP: '#ffd500',
  VAE: '#ff6e6e',
  CONDITIONING: '#ffa931',
  LATENT: '#ff9cf9',
  IMAGE: '#64b5f6',
  MASK: '#81c784',
  CLIP_VISION: '#a8dadc',
  CLIP_VISION_OUTPUT: '#ad7452',
  SIGMAS: '#cdffcd',
  SAMPLER: '#ecb4b4',
  NOISE: '#b0b0b0',
  GUIDER: '#66ffff',
  CONTROL_NET: '#00d78d',
  INT: '#7fd1b9',
  FLOAT: '#9ad17f',
  STRING: '#c9c9a0',
  BOOLEAN: '#d49cd4',
  COMBO: '#a0a0c9',
};

/** A stable colour for types without an entry, so unknown types still look distinct. */
export function socketColor(type: string): string {
  const known = COLORS[type];
  if (known) return known;
  let h = 0;
  for (let i = 0; i < type.length; i++) h = (h * 31 + type.charCodeAt(i)) % 360;
  return `hsl(${h}, 55%, 65%)`;
}
