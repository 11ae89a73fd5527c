import { NodeRegistry, type NodeDefinition } from '../engine/index.js';
import { PRIMITIVE_NODES } from '../nodes/primitives.js';
import { IMAGE_NODES } from '../nodes/image/index.js';
import { DIFFUSION_NODES } from '../nodes/diffusion/index.js';
import { CLIP_NODES } from '../nodes/clip/index.js';
import { UPSCALE_NODES } from '../nodes/upscale/index.js';
import { CONTROLNET_NODES } from '../nodes/controlnet/index.js';
import { LORA_NODES } from '../nodes/lora/index.js';

/** Every node family latentflow ships, in palette order. Add a family with one line here. */
export const ALL_NODES: readonly NodeDefinition[] = [...PRIMITIVE_NODES, ...IMAGE_NODES, ...DIFFUSION_NODES, ...CLIP_NODES, ...UPSCALE_NODES, ...CONTROLNET_NODES, ...LORA_NODES];

export function createRegistry(extra: Iterable<NodeDefinition> = []): NodeRegistry {
  return new NodeRegistry([...ALL_NODES, ...extra]);
}
