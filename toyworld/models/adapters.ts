/**
 * toyworld's LoRAs and textual-inversion embedding (spec/toyworld.md), written as real files are: kohya
 * LoRAs on the U-Net's text-prior Linear (`lora_unet_text_prior`, W [K, 768] = the prior transposed) and an
 * A1111 embedding (`emb_params`) in the text encoder's concept space.
 * - toyworld-purple: rank 1, down = one-hot on "red", up = -BETA on red prototypes and +BETA on purple ones,
 *   alpha 1: at strength 1 "red" puts its prior on purple prototypes (a purple shape), at 0 it stays red,
 *   in between the two share it.
 * - toyworld-square: the same for shapes, "circle" -> square.
 * - toyworld-crimson: one vector, the concept vector of "red": `embedding:toyworld-crimson` draws red.
 */
import { encodeSafetensors } from '../../runtime/safetensors-write.js';
import { BETA } from '../latents.js';
import { COLOURS, SHAPES, prototypeIds } from '../world.js';
import { SD_HIDDEN } from './text-encoder.js';
import { TEXT_PRIOR_MODULE } from './unet.js';

function retarget(conceptFrom: number, isFrom: (c: number, s: number) => boolean, isTo: (c: number, s: number) => boolean): Uint8Array {
  const ids = prototypeIds();
  const down = new Array<number>(SD_HIDDEN).fill(0);
  down[conceptFrom] = 1;
  const up = ids.map((id) => (isFrom(id.colour, id.shape) ? -BETA : isTo(id.colour, id.shape) ? BETA : 0));
  const key = `lora_unet_${TEXT_PRIOR_MODULE}`;
  return encodeSafetensors({
    [`${key}.alpha`]: { dtype: 'F16', shape: [], data: [1] },
    [`${key}.lora_down.weight`]: { dtype: 'F16', shape: [1, SD_HIDDEN], data: down },
    [`${key}.lora_up.weight`]: { dtype: 'F16', shape: [ids.length, 1], data: up },
  }, { ss_network_module: 'networks.lora', ss_network_dim: '1', ss_network_alpha: '1' });
}

const colour = (name: string): number => COLOURS.findIndex((c) => c.name === name);
const shape = (name: string): number => SHAPES.indexOf(name as (typeof SHAPES)[number]);

/** "red" -> purple. */
export function purpleLora(): Uint8Array {
  const red = colour('red');
  const purple = colour('purple');
  return retarget(red, (c) => c === red, (c) => c === purple);
}

/** "circle" -> square (shape concepts follow the colours). */
export function squareLora(): Uint8Array {
  const circle = shape('circle');
  const square = shape('square');
  return retarget(COLOURS.length + circle, (_c, s) => s === circle, (_c, s) => s === square);
}

/** The concept vector of "red" as a one-vector A1111 embedding. */
export function crimsonEmbedding(): Uint8Array {
  const v = new Array<number>(SD_HIDDEN).fill(0);
  v[colour('red')] = 1;
  return encodeSafetensors({ emb_params: { dtype: 'F32', shape: [1, SD_HIDDEN], data: v } });
}
